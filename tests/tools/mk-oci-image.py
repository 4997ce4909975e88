#!/usr/bin/python3
"""Build a local OCI image archive for tests/82-containerd-cri.t, without any network.

    mk-oci-image.py OUT.tar BUSYBOX REF=ENTRYPOINT... [REF=ENTRYPOINT...]

One layer (a static busybox as /bin/busybox, a few applet links, /etc/passwd and
/etc/group) shared by one image per REF; each image's config runs ENTRYPOINT (words
split on spaces). index.json names each manifest with io.containerd.image.name, the full
reference `ctr images import` tags it with. Deterministic: fixed times and owners.
"""
import hashlib
import io
import json
import os
import platform
import sys
import tarfile

GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm",
          "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
MTIME = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))


def tar_add(tf, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.mode = mode
    ti.type = kind
    ti.linkname = link
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    if data is not None:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)


def layer(busybox):
    with open(busybox, "rb") as f:
        bb = f.read()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for d, mode in (("bin", 0o755), ("dev", 0o755), ("etc", 0o755), ("proc", 0o555),
                        ("root", 0o700), ("sys", 0o555), ("tmp", 0o1777)):
            tar_add(tf, d, mode=mode, kind=tarfile.DIRTYPE)
        tar_add(tf, "bin/busybox", bb, mode=0o755)
        for applet in ("sh", "cat", "echo", "sleep", "true"):
            tar_add(tf, "bin/" + applet, kind=tarfile.SYMTYPE, link="busybox", mode=0o777)
        tar_add(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        tar_add(tf, "etc/group", b"root:x:0:\n")
    return buf.getvalue()


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, busybox, images = sys.argv[1], sys.argv[2], sys.argv[3:]
    blobs = {}

    def blob(data, media_type):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def js(obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()

    arch = GOARCH.get(platform.machine(), platform.machine())
    lay = layer(busybox)
    lay_desc = blob(lay, "application/vnd.oci.image.layer.v1.tar")
    manifests = []
    for spec in images:
        ref, _, entry = spec.partition("=")
        config = {
            "architecture": arch,
            "os": "linux",
            "config": {"Entrypoint": entry.split(), "Env": ["PATH=/bin"], "WorkingDir": "/"},
            "rootfs": {"type": "layers", "diff_ids": [lay_desc["digest"]]},
            "history": [{"created_by": "tests/tools/mk-oci-image.py"}],
        }
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": blob(js(config), "application/vnd.oci.image.config.v1+json"),
            "layers": [lay_desc],
        }
        desc = blob(js(manifest), "application/vnd.oci.image.manifest.v1+json")
        desc["annotations"] = {"io.containerd.image.name": ref,
                               "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]}
        manifests.append(desc)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": manifests}
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tf:
        tar_add(tf, "oci-layout", js({"imageLayoutVersion": "1.0.0"}))
        tar_add(tf, "index.json", js(index))
        tar_add(tf, "blobs", mode=0o755, kind=tarfile.DIRTYPE)
        tar_add(tf, "blobs/sha256", mode=0o755, kind=tarfile.DIRTYPE)
        for digest, data in sorted(blobs.items()):
            tar_add(tf, "blobs/sha256/" + digest.split(":", 1)[1], data)


if __name__ == "__main__":
    main()
