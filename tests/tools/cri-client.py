#!/usr/bin/python3
"""A minimal CRI v1 client for tests/82-containerd-cri.t: what a kubelet asks of containerd
to run one pod, and no more. The messages come from tests/tools/cri_runtime_v1.proto,
compiled by the caller (python3 -m grpc_tools.protoc) into GEN_DIR.

    cri-client.py --socket SOCK --gen GEN_DIR status
    cri-client.py --socket SOCK --gen GEN_DIR run --handler H --image REF --name NAME
                  --cgroup-parent P --log-dir DIR [--timeout S] -- COMMAND...

status: Version and the verbose Status (containerd reports the CRI config it runs with).
run: a pod on the node's network (no CNI), PID and IPC namespaces of its own, with runtime
handler H ("" is the default, as for a pod without runtimeClassName); one container
running COMMAND; waits up to S seconds for it to exit; the pod is stopped and removed
whatever happened. Prints one JSON object; a failing call is named in "error".
"""
import argparse
import json
import os
import sys
import time
import uuid

RPC_TIMEOUT = 20


def load(gen):
    sys.path.insert(0, gen)
    import grpc  # noqa: E402
    import cri_runtime_v1_pb2 as pb  # noqa: E402
    import cri_runtime_v1_pb2_grpc as pbg  # noqa: E402
    return grpc, pb, pbg


def status(grpc, pb, rt):
    out = {}
    v = rt.Version(pb.VersionRequest(version="v1"), timeout=RPC_TIMEOUT)
    out["runtime_name"], out["runtime_version"] = v.runtime_name, v.runtime_version
    out["runtime_api_version"] = v.runtime_api_version
    s = rt.Status(pb.StatusRequest(verbose=True), timeout=RPC_TIMEOUT)
    out["conditions"] = {c.type: c.status for c in s.status.conditions}
    out["config"] = json.loads(s.info.get("config", "null"))
    return out


def run(grpc, pb, rt, a):
    out = {"handler": a.handler, "error": None}
    uid = str(uuid.uuid4())
    ns = pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD)
    sandbox = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=a.name, uid=uid, namespace="node-agent-test"),
        log_directory=os.path.join(a.log_dir, a.name),
        labels={"node-agent-test": a.name},
        linux=pb.LinuxPodSandboxConfig(
            cgroup_parent=a.cgroup_parent + "/pod" + uid,
            security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns)))
    step = "RunPodSandbox"
    sid = None
    try:
        sid = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox, runtime_handler=a.handler),
                               timeout=RPC_TIMEOUT).pod_sandbox_id
        out["sandbox_id"] = sid
        step = "PodSandboxStatus"
        ps = rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sid, verbose=True),
                                 timeout=RPC_TIMEOUT)
        out["sandbox_runtime_handler"] = ps.status.runtime_handler
        info = json.loads(ps.info.get("info", "{}"))
        out["sandbox_runtime_options"] = info.get("runtimeOptions")
        out["sandbox_cgroups_path"] = info.get("runtimeSpec", {}).get("linux", {}).get("cgroupsPath")
        step = "CreateContainer"
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="main"), image=pb.ImageSpec(image=a.image),
            command=a.command, log_path="main.log",
            linux=pb.LinuxContainerConfig(
                security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))
        cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=sid, config=cfg,
                                                           sandbox_config=sandbox),
                                 timeout=RPC_TIMEOUT).container_id
        out["container_id"] = cid
        step = "StartContainer"
        rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=RPC_TIMEOUT)
        step = "ContainerStatus"
        deadline = time.monotonic() + a.timeout
        while True:
            cs = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid, verbose=True),
                                    timeout=RPC_TIMEOUT)
            if cs.status.state == pb.CONTAINER_EXITED or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        out["state"] = pb.ContainerState.Name(cs.status.state)
        out["exit_code"] = cs.status.exit_code
        out["reason"], out["message"] = cs.status.reason, cs.status.message
        info = json.loads(cs.info.get("info", "{}"))
        out["runtime_type"] = info.get("runtimeType")
        out["runtime_options"] = info.get("runtimeOptions")
        out["cgroups_path"] = info.get("runtimeSpec", {}).get("linux", {}).get("cgroupsPath")
        # the CRI log: "TIME STREAM P|F TEXT" lines; the text is what the test compares
        log = ""
        for _ in range(50):
            try:
                with open(cs.status.log_path) as f:
                    log = f.read()
            except OSError:
                pass
            if log:
                break
            time.sleep(0.1)
        out["log"] = [line.split(" ", 3)[3] for line in log.splitlines() if line.count(" ") >= 3]
    except grpc.RpcError as e:
        out["error"] = "%s: %s: %s" % (step, e.code().name, e.details())
    finally:
        if sid:
            for name, req in (("StopPodSandbox", pb.StopPodSandboxRequest),
                              ("RemovePodSandbox", pb.RemovePodSandboxRequest)):
                try:
                    getattr(rt, name)(req(pod_sandbox_id=sid), timeout=RPC_TIMEOUT)
                except grpc.RpcError as e:
                    out["error"] = out["error"] or "%s: %s" % (name, e.details())
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--gen", required=True)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    r = sub.add_parser("run")
    r.add_argument("--handler", default="")
    r.add_argument("--image", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--cgroup-parent", required=True)
    r.add_argument("--log-dir", required=True)
    r.add_argument("--timeout", type=float, default=20)
    r.add_argument("command", nargs="+")
    a = p.parse_args()
    grpc, pb, pbg = load(a.gen)
    with grpc.insecure_channel("unix://" + a.socket) as ch:
        rt = pbg.RuntimeServiceStub(ch)
        try:
            out = status(grpc, pb, rt) if a.cmd == "status" else run(grpc, pb, rt, a)
        except grpc.RpcError as e:
            out = {"error": "%s: %s" % (e.code().name, e.details())}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 1 if out.get("error") else 0


if __name__ == "__main__":
    sys.exit(main())
