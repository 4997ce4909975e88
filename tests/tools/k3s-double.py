#!/usr/bin/env python3
"""K3s server / Kubernetes API test double (loopback only, Python 3 standard library).

  k3s-double.py --pki DIR [--port N] [--portfile F] [--self-signed] [--delay S] [--hang]
                [--hang-tls] [--nodes-file F] [--node-read own|any] [--log F]

DIR is what tests/tools/mk-k3s-pki.sh made. Serves, like K3s's supervisor port (6443):
  GET /cacerts, GET /ping                         no authentication (K3s pkg/server/handlers)
  GET /v1-k3s/client-kubelet.crt                  the token's basic-auth credentials + K3s-Node-Name
  GET /version, /healthz, /livez, /readyz         authenticated
  GET|POST /api/v1/nodes, GET|PATCH /api/v1/nodes/NAME
                                                  Kubernetes API with x509/bearer authn, the Node
                                                  authorizer, RBAC-like system:masters and the
                                                  NodeRestriction admission plugin
  /_double/...                                    test control, no authentication (see README)
What it follows and where that comes from: tests/k3s-double/README.md.
"""
import argparse
import base64
import copy
import datetime
import hashlib
import http.server
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

MAX_BODY = 3 * 1024 * 1024  # kube-apiserver --max-request-body-bytes default (3 MB)
PATCH_TYPES = [  # the order kube-apiserver lists them in (endpoints/installer.go)
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
]
BODY_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
CONFLICT_MSG = "the object has been modified; please apply your changes to the latest version and try again"

STATE = None  # the cluster, set in main()
OPTS = None


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def go_json(obj):
    """Compact JSON with a trailing newline, as the apiserver's JSON serializer writes it."""
    return (json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason}
        if self.details is not None:
            s["details"] = self.details
        s["code"] = self.code
        return s


def details(name=None, kind="nodes"):
    d = {}
    if name:
        d["name"] = name
    if kind:
        d["kind"] = kind
    return d


def not_found(name):
    return ApiError(404, "NotFound", 'nodes "%s" not found' % name, details(name))


def forbidden(name, why):
    if name:
        msg = 'nodes "%s" is forbidden: %s' % (name, why)
    else:
        msg = "nodes is forbidden: %s" % why
    return ApiError(403, "Forbidden", msg, details(name))


def conflict(name):
    return ApiError(409, "Conflict", 'Operation cannot be fulfilled on nodes "%s": %s' % (name, CONFLICT_MSG),
                    details(name))


def bad_request(msg):
    return ApiError(400, "BadRequest", msg)


# ---- patches ---------------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# Lists of a Node that strategic merge patch merges by a key instead of replacing
# (patchMergeKey in k8s.io/api/core/v1/types.go).
SMP_LIST_KEYS = {("status", "conditions"): "type", ("status", "addresses"): "type",
                 ("status", "volumesAttached"): "name"}


def strategic_merge_patch(target, patch, path=()):
    """Strategic merge patch, the parts a Node needs: maps merge like RFC 7386 (null deletes),
    "$patch": "replace"/"delete" directives on maps, and the keyed lists in SMP_LIST_KEYS merge
    by their key. Other lists replace, as for fields without a patch strategy."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive is not None:
        raise bad_request('unknown patch type: "%s"' % directive)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        sub = path + (k,)
        if v is None:
            out.pop(k, None)
        elif sub in SMP_LIST_KEYS and isinstance(v, list) and isinstance(out.get(k), list):
            key = SMP_LIST_KEYS[sub]
            items = copy.deepcopy(out[k])
            for p in v:
                if not isinstance(p, dict) or key not in p:
                    raise bad_request("map: %s does not contain declared merge key: %s" % (p, key))
                idx = next((i for i, it in enumerate(items) if isinstance(it, dict) and it.get(key) == p[key]), None)
                if p.get("$patch") == "delete":
                    if idx is not None:
                        items.pop(idx)
                elif idx is None:
                    items.append({a: b for a, b in p.items() if a != "$patch"})
                else:
                    items[idx] = strategic_merge_patch(items[idx], p, sub)
            out[k] = items
        else:
            r = strategic_merge_patch(out.get(k), v, sub)
            if r is None and isinstance(v, dict) and v.get("$patch") == "delete":
                out.pop(k, None)
            else:
                out[k] = r
    return out


class JsonPatchError(Exception):
    pass


def _pointer(ptr):
    if ptr == "":
        return []
    if not ptr.startswith("/"):
        raise JsonPatchError("invalid JSON pointer %r" % ptr)
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and re.fullmatch(r"0|[1-9][0-9]*", p) and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise JsonPatchError("path not found")
    return cur


def _get(doc, ptr):
    return _walk(doc, _pointer(ptr))


def _remove(doc, ptr):
    parts = _pointer(ptr)
    if not parts:
        raise JsonPatchError("cannot remove the root")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) < len(parent):
        return parent.pop(int(last))
    raise JsonPatchError("Unable to remove nonexistent key: %s: missing value" % last)


def _add(doc, ptr, value):
    parts = _pointer(ptr)
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif re.fullmatch(r"0|[1-9][0-9]*", last) and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise JsonPatchError("add operation does not apply: index out of bounds")
    else:
        raise JsonPatchError("add operation does not apply: doc is missing path")
    return doc


def json_patch(doc, ops):
    """RFC 6902 JSON Patch: add, remove, replace, move, copy, test."""
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise JsonPatchError("invalid operation")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if _pointer(path):
                _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            src = op.get("from")
            if src is None:
                raise JsonPatchError("missing from")
            val = copy.deepcopy(_get(doc, src))
            if kind == "move":
                _remove(doc, src)
            doc = _add(doc, path, val)
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise JsonPatchError("testing value %s failed" % path)
        else:
            raise JsonPatchError("Unexpected kind: %s" % kind)
    return doc


# ---- selectors -------------------------------------------------------------------------------

LABEL_KEY = re.compile(r"([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
LABEL_VAL = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def regex_error(msg, fmt, *examples):
    """apimachinery/pkg/util/validation RegexError, spaces and all."""
    if examples:
        msg += " (e.g. " + " or ".join("'%s', " % e for e in examples)
        return msg + "regex used for validation is '" + fmt + "')"
    return msg + " (regex used for validation is '" + fmt + "')"


QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QNAME_MSG = ("must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character")
DNS1123_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
DNS1123_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
               "and must start and end with an alphanumeric character")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                   "'.', and must start and end with an alphanumeric character")


def qualified_name_errors(key):
    """IsQualifiedName: label keys."""
    parts = key.split("/")
    errs = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 characters")
            if not re.fullmatch(DNS1123_FMT, prefix):
                errs.append("prefix part " + regex_error(DNS1123_MSG, DNS1123_FMT, "example.com"))
    else:
        return ["a qualified name " + regex_error(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc") +
                " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not re.fullmatch(QNAME_FMT, name):
        errs.append("name part " + regex_error(QNAME_MSG, QNAME_FMT, "MyName", "my.name", "123-abc"))
    return errs


def label_value_errors(v):
    errs = []
    if len(v) > 63:
        errs.append("must be no more than 63 characters")
    if not re.fullmatch("(" + QNAME_FMT + ")?", v):
        errs.append(regex_error(LABEL_VALUE_MSG, "(" + QNAME_FMT + ")?", "MyValue", "my_value", "12345"))
    return errs


def validate_node(name, node):
    """The parts of ValidateNode a label-setting client can trip: metadata.labels (422 Invalid)."""
    md = node.get("metadata")
    labels = md.get("labels") if isinstance(md, dict) else None
    if md is not None and not isinstance(md, dict) or labels is not None and not isinstance(labels, dict):
        raise bad_request("json: cannot unmarshal into Go struct field of type map[string]string")
    errs = []
    for k, v in sorted((labels or {}).items()):
        if not isinstance(v, str):
            raise bad_request("json: cannot unmarshal %s into Go struct field ObjectMeta.metadata.labels of "
                              "type string" % type(v).__name__.replace("int", "number").replace("dict", "object"))
        errs += ['Invalid value: "%s": %s' % (k, m) for m in qualified_name_errors(k)]
        errs += ['Invalid value: "%s": %s' % (v, m) for m in label_value_errors(v)]
    if not errs:
        return
    full = ["metadata.labels: " + e for e in errs]
    agg = full[0] if len(full) == 1 else "[" + ", ".join(full) + "]"
    raise ApiError(422, "Invalid", 'Node "%s" is invalid: %s' % (name, agg), {
        "name": name, "kind": "Node",
        "causes": [{"reason": "FieldValueInvalid", "message": e, "field": "metadata.labels"} for e in errs]})


def parse_label_selector(sel):
    """k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b); comma-separated (AND)."""
    reqs = []
    parts, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    for raw in parts:
        p = raw.strip()
        if not p:
            if sel.strip():
                raise bad_request("unable to parse requirement: found '', expected: identifier")
            continue
        m = re.fullmatch(r"(\S+?)\s+(in|notin)\s+\((.*)\)", p)
        if m:
            vals = [v.strip() for v in m.group(3).split(",")]
            op, key = m.group(2), m.group(1)
        elif p.startswith("!"):
            op, key, vals = "!", p[1:].strip(), []
        elif "!=" in p:
            key, v = p.split("!=", 1)
            op, vals = "!=", [v.strip()]
        elif "==" in p:
            key, v = p.split("==", 1)
            op, vals = "=", [v.strip()]
        elif "=" in p:
            key, v = p.split("=", 1)
            op, vals = "=", [v.strip()]
        else:
            op, key, vals = "exists", p, []
        key = key.strip()
        if not LABEL_KEY.fullmatch(key) or not all(LABEL_VAL.fullmatch(v) for v in vals):
            raise bad_request("unable to parse requirement: invalid label key or value in %r" % p)
        reqs.append((op, key, vals))
    return reqs


def labels_match(reqs, labels):
    for op, key, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "=" and not (has and v == vals[0]):
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
        if op == "in" and not (has and v in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
    return True


def parse_field_selector(sel):
    """Nodes support metadata.name (and spec.unschedulable) field selectors; = == != only."""
    reqs = []
    for p in filter(None, (x.strip() for x in sel.split(","))):
        m = re.fullmatch(r"([A-Za-z.]+)\s*(==|!=|=)\s*(.*)", p)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (sel, p))
        field, op, val = m.group(1), m.group(2), m.group(3)
        if field not in ("metadata.name", "spec.unschedulable"):
            raise bad_request('field label not supported: %s' % field)
        reqs.append((field, "!=" if op == "!=" else "=", val))
    return reqs


def fields_match(reqs, node):
    for field, op, val in reqs:
        if field == "metadata.name":
            got = node["metadata"]["name"]
        else:
            got = "true" if node.get("spec", {}).get("unschedulable") else "false"
        if (got == val) != (op == "="):
            return False
    return True


# ---- NodeRestriction ---------------------------------------------------------------------------

KUBELET_LABELS = {  # k8s.io/kubelet/pkg/apis/well_known_labels.go kubeletLabels
    "kubernetes.io/hostname", "topology.kubernetes.io/zone", "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
    "node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type",
    "kubernetes.io/os", "beta.kubernetes.io/os", "kubernetes.io/arch", "beta.kubernetes.io/arch",
}
KUBELET_NAMESPACES = ("kubelet.kubernetes.io", "node.kubernetes.io")


def label_namespace(key):
    return key.split("/", 1)[0] if "/" in key else ""


def is_kubelet_label(key):
    if key in KUBELET_LABELS:
        return True
    ns = label_namespace(key)
    return any(ns == n or ns.endswith("." + n) for n in KUBELET_NAMESPACES)


def is_kubernetes_label(key):
    ns = label_namespace(key)
    return any(ns == n or ns.endswith("." + n) for n in ("kubernetes.io", "k8s.io"))


def forbidden_labels(new, old):
    modified = {k for k in set(new) | set(old) if new.get(k) != old.get(k) or (k in new) != (k in old)}
    bad = set()
    for k in modified:
        ns = label_namespace(k)
        if ns == "node-restriction.kubernetes.io" or ns.endswith(".node-restriction.kubernetes.io"):
            bad.add(k)
        if is_kubernetes_label(k) and not is_kubelet_label(k):
            bad.add(k)
    return sorted(bad)


def node_identity(user):
    """pkg/auth/nodeidentifier: a node is user system:node:<name> in group system:nodes."""
    if user is None or "system:nodes" not in user["groups"]:
        return None
    if not user["name"].startswith("system:node:"):
        return None
    return user["name"][len("system:node:"):]


def admit_node(user, op, name, new, old):
    """plugin/pkg/admission/noderestriction admitNode, for create and update of nodes."""
    node = node_identity(user)
    if node is None:
        return
    if node == "":
        raise forbidden(name, 'could not determine node from user "%s"' % user["name"])
    if name != node:
        raise forbidden(name, 'node "%s" is not allowed to modify node "%s"' % (node, name))
    new_labels = new.get("metadata", {}).get("labels") or {}
    if op == "create":
        bad = forbidden_labels(new_labels, {})
        if bad:
            raise forbidden(name, 'node "%s" is not allowed to set the following labels: %s' % (node, ", ".join(bad)))
        return
    if (new.get("spec", {}).get("taints") or []) != (old.get("spec", {}).get("taints") or []):
        raise forbidden(name, 'node "%s" is not allowed to modify taints' % node)
    bad = forbidden_labels(new_labels, old.get("metadata", {}).get("labels") or {})
    if bad:
        raise forbidden(name, "is not allowed to modify labels: %s" % ", ".join(bad))


def authorize(user, verb, name, sub=""):
    """Node authorizer (AuthorizeNodeWithSelectors, default since 1.32) then RBAC, for nodes.
    Returns None when allowed, else the reason text the authorizer gave ('' for none)."""
    if "system:masters" in user["groups"]:
        return None
    node = node_identity(user)
    if node is not None:
        if node == "":
            return 'unknown node for user "%s"' % user["name"]
        if sub == "status":
            return None if verb in ("update", "patch") else ""
        if verb in ("create", "update", "patch"):
            return None  # NodeRestriction decides
        if verb in ("get", "list", "watch"):
            if OPTS.node_read == "any":  # before 1.32: the static node rules allowed reading all nodes
                return None
            if name == node:
                return None
            if not name:
                return "node '%s' cannot read all nodes, only its own Node object" % node
            return "node '%s' cannot read '%s', only its own Node object" % (node, name)
    return ""


def deny(user, verb, name, reason, sub=""):
    msg = 'User "%s" cannot %s resource "%s" in API group "" at the cluster scope' % (
        user["name"], verb, "nodes/" + sub if sub else "nodes")
    if reason:
        msg += ": " + reason
    return forbidden(name, msg)


# ---- the cluster -------------------------------------------------------------------------------

CONDITION_TEXT = {  # what the kubelet reports (pkg/kubelet/nodestatus/setters.go)
    "MemoryPressure": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
}


class Cluster:
    def __init__(self):
        self.lock = threading.Lock()
        self.rv = 100
        self.nodes = {}
        self.log = []
        self.pod_cidr = 0
        self.delay = OPTS.delay
        self.hang = OPTS.hang

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def stamp_new(self, node):
        md = node.setdefault("metadata", {})
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = now_rfc3339()
        md["resourceVersion"] = self.next_rv()
        md.pop("generation", None)
        node["apiVersion"], node["kind"] = "v1", "Node"
        return node

    def make_node(self, name, labels=None, annotations=None, ready="True", server=False, ip=None,
                  taints=None):
        """A Node as a K3s agent's kubelet registers it, and its status as a kubelet reports it."""
        self.pod_cidr += 1
        ts = now_rfc3339()
        ip = ip or "10.0.2.%d" % (14 + self.pod_cidr)
        lab = {
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "k3s",
            "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": "k3s",
        }
        if server:
            lab["node-role.kubernetes.io/control-plane"] = "true"
            lab["node-role.kubernetes.io/master"] = "true"
        lab.update(labels or {})
        ann = {
            "alpha.kubernetes.io/provided-node-ip": ip,
            "flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"%s"}' % ":".join(
                hashlib.sha256(name.encode()).hexdigest()[i:i + 2] for i in range(0, 12, 2)),
            "flannel.alpha.coreos.com/backend-type": "vxlan",
            "flannel.alpha.coreos.com/kube-subnet-manager": "true",
            "flannel.alpha.coreos.com/public-ip": ip,
            "k3s.io/hostname": name,
            "k3s.io/internal-ip": ip,
            "k3s.io/node-args": json.dumps(["server" if server else "agent"]),
            "k3s.io/node-config-hash": "DOUBLE" + hashlib.sha256(name.encode()).hexdigest()[:26].upper(),
            "k3s.io/node-env": "{}",
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }
        ann.update(annotations or {})
        cidr = "10.42.%d.0/24" % (self.pod_cidr - 1)
        node = {
            "kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "labels": lab, "annotations": ann},
            "spec": {"podCIDR": cidr, "podCIDRs": [cidr], "providerID": "k3s://" + name},
            "status": {
                "capacity": {"cpu": "4", "ephemeral-storage": "30787492Ki", "hugepages-2Mi": "0",
                             "memory": "8129876Ki", "pods": "110"},
                "allocatable": {"cpu": "4", "ephemeral-storage": "29950072524", "hugepages-2Mi": "0",
                                "memory": "8129876Ki", "pods": "110"},
                "conditions": [],
                "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": hashlib.md5(name.encode()).hexdigest(),
                    "systemUUID": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                    "bootID": str(uuid.uuid4()),
                    "kernelVersion": "6.1.0-28-amd64", "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "containerRuntimeVersion": "containerd://2.0.5-k3s1",
                    "kubeletVersion": "v1.32.5+k3s1", "kubeProxyVersion": "v1.32.5+k3s1",
                    "operatingSystem": "linux", "architecture": "amd64",
                },
            },
        }
        if taints:
            node["spec"]["taints"] = taints
        self.set_ready(node, ready, ts)
        return node

    @staticmethod
    def set_ready(node, status, ts=None):
        """Ready True/False as the kubelet posts it; Unknown as the node lifecycle controller sets
        it when the kubelet stops posting (with its unreachable/not-ready taints)."""
        ts = ts or now_rfc3339()
        old = {c.get("type"): c for c in node.get("status", {}).get("conditions", [])}
        conds = []
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
            if status == "Unknown":
                st, reason, msg = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
            elif t == "Ready":
                st = status
                reason, msg = (("KubeletReady", "kubelet is posting ready status") if status == "True" else
                               ("KubeletNotReady", "container runtime network not ready: NetworkReady=false "
                                "reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"))
            else:
                st, (reason, msg) = "False", CONDITION_TEXT[t]
            prev = old.get(t, {})
            trans = prev.get("lastTransitionTime", ts) if prev.get("status") == st else ts
            hb = prev.get("lastHeartbeatTime", ts) if status == "Unknown" else ts
            conds.append({"type": t, "status": st, "lastHeartbeatTime": hb, "lastTransitionTime": trans,
                          "reason": reason, "message": msg})
        node.setdefault("status", {})["conditions"] = conds
        spec = node.setdefault("spec", {})
        taints = [t for t in spec.get("taints", []) if t.get("key") not in
                  ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
        if status == "False":
            taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        elif status == "Unknown":
            taints.append({"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"})
            taints.append({"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ts})
        if taints:
            spec["taints"] = taints
        else:
            spec.pop("taints", None)


def output_node(node, in_list=False):
    """Encode as the apiserver does: struct fields in Go order, map keys (labels, annotations) sorted."""
    n = copy.deepcopy(node)
    md = n.get("metadata", {})
    for k in ("labels", "annotations"):
        if k in md:
            md[k] = dict(sorted(md[k].items()))
    order = ["name", "uid", "resourceVersion", "creationTimestamp", "labels", "annotations"]
    md = {**{k: md[k] for k in order if k in md}, **{k: v for k, v in md.items() if k not in order}}
    out = {} if in_list else {"kind": "Node", "apiVersion": "v1"}
    out["metadata"] = md
    for k in ("spec", "status"):
        if k in n:
            out[k] = n[k]
    for k, v in n.items():
        if k not in ("kind", "apiVersion", "metadata", "spec", "status"):
            out[k] = v
    return out


# ---- HTTP ----------------------------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k3s-double"
    sys_version = ""

    def log_message(self, fmt, *args):
        if OPTS.verbose:
            sys.stderr.write("k3s-double: %s\n" % (fmt % args))

    # -- plumbing
    def send_response(self, code, message=None):
        # Go's net/http sends Date but no Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def client_kubelet_cert(self):
        """K3s's supervisor route an agent uses to get its kubelet's client certificate
        (pkg/server/router.go: the node-authenticated /v1-k3s/client-kubelet.crt): HTTP basic
        auth with the token's credentials (user "node", or "server" with the server token),
        the node name in the K3s-Node-Name header; the answer is the certificate chain
        followed by the private key, PEM. Certificates are made on first request with the
        PKI's client CA (CN=system:node:NAME, O=system:nodes), as K3s does."""
        auth = self.headers.get("Authorization", "")
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                ok = user in ("node", "server") and pw == self.server.token_password
            except (ValueError, UnicodeDecodeError):
                ok = False
        if not ok:
            return self.send(401, b"Unauthorized\n", "text/plain; charset=utf-8")
        name = self.headers.get("K3s-Node-Name", "")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
            return self.send(400, b"invalid K3s-Node-Name\n", "text/plain; charset=utf-8")
        pki = OPTS.pki
        crt = os.path.join(pki, "client-kubelet-%s.crt" % name)
        key = os.path.join(pki, "client-kubelet-%s.key" % name)
        with STATE.lock:
            if not os.path.exists(crt):
                import subprocess
                csr = crt + ".csr"
                leaf = crt + ".leaf"
                subprocess.run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout",
                                "-out", key], check=True, capture_output=True)
                subprocess.run(["openssl", "req", "-new", "-key", key, "-subj",
                                "/O=system:nodes/CN=system:node:%s" % name, "-out", csr],
                               check=True, capture_output=True)
                ext = crt + ".ext"
                with open(ext, "w") as f:
                    f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,"
                            "keyEncipherment\nextendedKeyUsage=clientAuth\n")
                subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA",
                                os.path.join(pki, "client-ca.crt"), "-CAkey",
                                os.path.join(pki, "client-ca.key"), "-set_serial",
                                "0x%s" % uuid.uuid4().hex[:16], "-days", "365", "-sha256",
                                "-extfile", ext, "-out", leaf], check=True, capture_output=True)
                with open(crt, "wb") as out:
                    out.write(open(leaf, "rb").read() + open(os.path.join(pki, "client-ca.crt"), "rb").read())
                for f in (csr, leaf, ext):
                    os.unlink(f)
            body = open(crt, "rb").read() + open(key, "rb").read()
        return self.send(200, body, "text/plain")

    def send(self, code, body, ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if ctype == "application/json":
            self.send_header("Audit-Id", str(uuid.uuid4()))
            self.send_header("Cache-Control", "no-cache, private")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        # Headers and body in one write: no Nagle/delayed-ACK stall between two small TLS records.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        self.flush_headers()
        self.status_sent = code

    def send_obj(self, code, obj):
        self.send(code, go_json(obj))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ApiError(400, "BadRequest", "truncated chunked body")
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    size = -1
                if size < 0:
                    self.close_connection = True
                    raise ApiError(400, "BadRequest", "invalid chunked body")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                if len(data) + size > MAX_BODY:
                    self.close_connection = True
                    raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
                data += self.rfile.read(size)
                self.rfile.readline(8)
        n = self.headers.get("Content-Length")
        if not n:
            return b""
        try:
            n = int(n)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "BadRequest", "invalid Content-Length")
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728")
        return self.rfile.read(n)

    def identity(self):
        """Union of the x509 and token-file authenticators: the first that succeeds wins."""
        user = None
        cert = None
        try:
            cert = self.connection.getpeercert()
        except (ValueError, AttributeError):
            cert = None
        if cert:
            issuer = dict(x[0] for x in cert.get("issuer", ()))
            if issuer.get("commonName") == self.server.client_ca_cn:
                cn, groups = "", []
                for rdn in cert.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            cn = v
                        elif k == "organizationName":
                            groups.append(v)
                if cn:
                    user = {"name": cn, "groups": groups + ["system:authenticated"], "auth": "x509"}
        if user is None:
            auth = self.headers.get("Authorization", "")
            if auth[:7].lower() == "bearer ":
                tok = auth[7:].strip()
                ent = self.server.tokens.get(tok)
                if ent:
                    user = {"name": ent[0], "uid": ent[1], "groups": ent[2] + ["system:authenticated"],
                            "auth": "token"}
        return user

    def record(self, user, body):
        entry = {
            "time": now_rfc3339(), "method": self.command, "path": self.path.split("?", 1)[0],
            "query": urllib.parse.urlsplit(self.path).query,
            "content_type": self.headers.get("Content-Type"),
            "accept": self.headers.get("Accept"),
            "user_agent": self.headers.get("User-Agent"),
            "user": user["name"] if user else None,
            "groups": user["groups"] if user else None,
            "auth": user["auth"] if user else None,
            "status": getattr(self, "status_sent", None),
        }
        try:
            entry["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            entry["body_base64"] = base64.b64encode(body).decode()
        with STATE.lock:
            if len(STATE.log) < 10000:
                STATE.log.append(entry)

    def handle_one_request(self):
        self.status_sent = None
        super().handle_one_request()

    def dispatch(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/_double/"):
            return self.control(path)
        if STATE.hang:
            # Never answer: hold the connection until the client gives up (bounded at 1 hour).
            self.close_connection = True
            for _ in range(3600):
                time.sleep(1)
            return
        if STATE.delay > 0:
            time.sleep(STATE.delay)
        body = b""
        user = None
        try:
            body = self.read_body()
            if path == "/cacerts" and self.command in ("GET", "HEAD"):
                # pkg/server/handlers CACerts: the server CA file as read from disk, "text/plain".
                return self.send(200, self.server.cacerts, "text/plain")
            if path == "/ping" and self.command in ("GET", "HEAD"):
                # Ping sets its headers after WriteHeader, so Go sniffs the type of "pong".
                return self.send(200, b"pong", "text/plain; charset=utf-8")
            if path == "/v1-k3s/client-kubelet.crt" and self.command == "GET":
                return self.client_kubelet_cert()
            user = self.identity()
            if user is None:
                # kube-apiserver with --anonymous-auth=false (K3s sets it).
                raise ApiError(401, "Unauthorized", "Unauthorized")
            self.api(path, body, user)
        except ApiError as e:
            self.send_obj(e.code, e.status())
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # a bug in the double: answer like the apiserver's panic handler
            self.close_connection = True
            self.send_obj(500, ApiError(500, "InternalError", "Internal error occurred: %r" % e,
                                        {"causes": [{"message": repr(e)}]}).status())
        finally:
            if not path.startswith("/_double/"):
                self.record(user, body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = lambda self: self.dispatch()

    # -- the API
    def accept_ok(self):
        acc = self.headers.get("Accept")
        if not acc:
            return True
        for part in acc.split(","):
            mt = part.split(";")[0].strip().lower()
            if mt in ("*/*", "application/*", "application/json", "application/json;as=table") or not mt:
                return True
        return False

    def api(self, path, body, user):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)
        if path in ("/healthz", "/livez", "/readyz") and self.command == "GET":
            return self.send(200, b"ok", "text/plain; charset=utf-8")
        if path == "/version" and self.command == "GET":
            return self.send_obj(200, {
                "major": "1", "minor": "32", "emulationMajor": "1", "emulationMinor": "32",
                "minCompatibilityMajor": "1", "minCompatibilityMinor": "31",
                "gitVersion": "v1.32.5+k3s1", "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2025-05-23T00:00:00Z", "goVersion": "go1.23.8", "compiler": "gc",
                "platform": "linux/amd64"})
        m = re.fullmatch(r"/api/v1/nodes(?:/([^/]+))?(?:/(status))?", path)
        if not m:
            raise ApiError(404, "NotFound", "the server could not find the requested resource", {})
        name, sub = m.group(1), m.group(2)
        if not self.accept_ok():
            raise ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                           "application/json, application/yaml, application/vnd.kubernetes.protobuf")
        if name is None and self.command == "GET":
            return self.list_nodes(q, user)
        if name is None and self.command == "POST":
            return self.create_node(body, user)
        if name is not None and self.command == "GET":
            return self.get_node(name, user, sub or "")
        if name is not None and self.command == "PATCH":
            return self.patch_node(name, body, user, sub or "")
        verb = {"PUT": "update", "DELETE": "delete", "POST": "create"}.get(self.command, self.command.lower())
        raise ApiError(405, "MethodNotAllowed", "%s is not supported on resources of kind \"nodes\"" % verb,
                       {"kind": "nodes"})

    def list_nodes(self, q, user):
        lsel = parse_label_selector(q.get("labelSelector", [""])[0])
        fsel = parse_field_selector(q.get("fieldSelector", [""])[0])
        # RequestInfo takes the name from a metadata.name=X field selector on list.
        name = next((v for f, op, v in fsel if f == "metadata.name" and op == "="), "")
        reason = authorize(user, "list", name)
        if reason is not None:
            raise deny(user, "list", name, reason)
        with STATE.lock:
            items = [output_node(n, in_list=True) for _, n in sorted(STATE.nodes.items())
                     if labels_match(lsel, n["metadata"].get("labels") or {}) and fields_match(fsel, n)]
            rv = str(STATE.rv)
        self.send_obj(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
                            "items": items})

    def get_node(self, name, user, sub=""):
        reason = authorize(user, "get", name, sub)
        if reason is not None:
            raise deny(user, "get", name, reason, sub)
        with STATE.lock:
            node = STATE.nodes.get(name)
            if node is None:
                raise not_found(name)
            out = output_node(node)
        self.send_obj(200, out)

    def create_node(self, body, user):
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        # The authorizer runs before the body is decoded; the name is not known yet.
        reason = authorize(user, "create", "")
        if reason is not None:
            raise deny(user, "create", "", reason)
        if ctype != "application/json":
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: " + ", ".join(BODY_TYPES))
        try:
            obj = json.loads(body or b"null")
        except ValueError as e:
            raise bad_request("Object 'Kind' is missing in '%s'" % body[:100].decode("utf-8", "replace")) from e
        if not isinstance(obj, dict) or obj.get("kind") not in (None, "Node"):
            raise bad_request("the API version in the data (%s) does not match the expected API version (v1)"
                              % (obj.get("apiVersion") if isinstance(obj, dict) else ""))
        name = (obj.get("metadata") or {}).get("name") or ""
        if not name:
            raise ApiError(422, "Invalid", 'Node "" is invalid: metadata.name: Required value: name or '
                           'generateName is required', {"kind": "Node", "causes": [
                               {"reason": "FieldValueRequired", "message": "Required value: name or generateName is required",
                                "field": "metadata.name"}]})
        validate_node(name, obj)
        admit_node(user, "create", name, obj, {})
        with STATE.lock:
            if name in STATE.nodes:
                raise ApiError(409, "AlreadyExists", 'nodes "%s" already exists' % name, details(name))
            obj.setdefault("metadata", {}).pop("resourceVersion", None)
            obj.setdefault("spec", {})
            obj.setdefault("status", {})
            node = STATE.stamp_new(obj)
            STATE.nodes[name] = node
            out = output_node(node)
        self.send_obj(201, out)

    def patch_node(self, name, body, user, sub=""):
        reason = authorize(user, "patch", name, sub)
        if reason is not None:
            raise deny(user, "patch", name, reason, sub)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype not in PATCH_TYPES:
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: " + ", ".join(PATCH_TYPES))
        if ctype == "application/apply-patch+yaml":
            raise ApiError(415, "UnsupportedMediaType", "the double does not implement server-side apply; "
                           "accepted media types include: " + ", ".join(PATCH_TYPES[:3]))
        try:
            patch = json.loads(body)
        except ValueError as e:
            raise bad_request("error decoding patch: %s" % e) from e
        with STATE.lock:
            cur = STATE.nodes.get(name)
            if cur is None:
                raise not_found(name)
            current = output_node(cur)
            if ctype == "application/json-patch+json":
                if not isinstance(patch, list):
                    raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
                try:
                    new = json_patch(current, patch)
                except JsonPatchError:
                    # endpoints/handlers/patch.go: a failing operation is a 422 with a generic message.
                    raise ApiError(422, "Invalid", "the server rejected our request due to an error in our request", {})
            elif ctype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("Invalid JSON Patch")
                new = merge_patch(current, patch)
            else:
                if not isinstance(patch, dict):
                    raise bad_request("Invalid JSON Patch")
                new = strategic_merge_patch(current, patch)
            if not isinstance(new, dict):
                raise bad_request("Invalid JSON Patch")
            if sub == "status":
                # nodeStatusStrategy: only status changes; spec and metadata stay (ResetObjectMetaForStatus).
                want_rv = (new.get("metadata") or {}).get("resourceVersion") if isinstance(new.get("metadata"), dict) else None
                new["spec"] = copy.deepcopy(current.get("spec", {}))
                new["metadata"] = copy.deepcopy(current["metadata"])
                new["metadata"]["resourceVersion"] = want_rv
            else:
                # nodeStrategy.PrepareForUpdate: status changes through the main resource are dropped.
                new["status"] = copy.deepcopy(current.get("status", {}))
            validate_node(name, new)
            md = new.setdefault("metadata", {})
            if not isinstance(md.get("annotations", {}) or {}, dict):
                raise bad_request("json: cannot unmarshal into Go struct field ObjectMeta.metadata.annotations")
            # Admission (NodeRestriction is a mutating plugin) runs before the storage update.
            admit_node(user, "update", name, new, current)
            want_rv = md.get("resourceVersion")
            if want_rv not in (None, "") and want_rv != cur["metadata"]["resourceVersion"]:
                raise conflict(name)
            # Server-owned fields stay.
            for k in ("name", "uid", "creationTimestamp"):
                md[k] = cur["metadata"][k]
            md.pop("resourceVersion", None)
            new["kind"], new["apiVersion"] = "Node", "v1"
            old_cmp = copy.deepcopy(cur)
            old_cmp["metadata"].pop("resourceVersion", None)
            if json.dumps(output_node(new), sort_keys=True) != json.dumps(output_node(old_cmp), sort_keys=True):
                md["resourceVersion"] = STATE.next_rv()
                STATE.nodes[name] = new
            else:
                md["resourceVersion"] = cur["metadata"]["resourceVersion"]  # a no-op write is not stored
            out = output_node(STATE.nodes[name])
        self.send_obj(200, out)

    # -- test control
    def control(self, path):
        try:
            self.control_(path)
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # bad input to a control endpoint
            self.close_connection = True
            self.send_obj(400, {"error": repr(e)})

    def control_(self, path):
        try:
            body = self.read_body()
        except ApiError as e:
            return self.send_obj(e.code, e.status())
        try:
            req = json.loads(body) if body else {}
        except ValueError:
            return self.send_obj(400, {"error": "body is not JSON"})
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if path == "/_double/log" and self.command == "GET":
            with STATE.lock:
                return self.send_obj(200, STATE.log)
        if path == "/_double/log" and self.command == "DELETE":
            with STATE.lock:
                STATE.log.clear()
            return self.send_obj(200, [])
        if path == "/_double/nodes" and self.command == "GET":
            with STATE.lock:
                return self.send_obj(200, {n: output_node(v) for n, v in sorted(STATE.nodes.items())})
        if path == "/_double/nodes" and self.command == "POST":
            try:
                node = node_from_spec(req)
            except ApiError as e:
                return self.send_obj(e.code, e.status())
            return self.send_obj(201, node)
        m = re.fullmatch(r"/_double/nodes/([^/]+)/ready", path)
        if m and self.command in ("POST", "PUT"):
            status = req.get("status") or (q.get("status") or [""])[0]
            if status not in ("True", "False", "Unknown"):
                return self.send_obj(400, {"error": "status must be True, False or Unknown"})
            with STATE.lock:
                node = STATE.nodes.get(m.group(1))
                if node is None:
                    return self.send_obj(404, {"error": "no such node"})
                Cluster.set_ready(node, status)
                # the kubelet of a new boot posts its boot's ID with its status
                # (kubelet_node_status.go: MachineInfo -> status.nodeInfo.bootID)
                if isinstance(req.get("boot_id"), str):
                    node.setdefault("status", {}).setdefault("nodeInfo", {})["bootID"] = req["boot_id"]
                node["metadata"]["resourceVersion"] = STATE.next_rv()
                return self.send_obj(200, output_node(node))
        m = re.fullmatch(r"/_double/nodes/([^/]+)", path)
        if m and self.command == "DELETE":
            with STATE.lock:
                gone = STATE.nodes.pop(m.group(1), None)
                if gone:
                    STATE.next_rv()
            return self.send_obj(200 if gone else 404, {"deleted": bool(gone)})
        if path == "/_double/config" and self.command in ("POST", "PUT"):
            with STATE.lock:
                if "delay" in req:
                    STATE.delay = max(0.0, min(float(req["delay"]), 3600.0))
                if "hang" in req:
                    STATE.hang = bool(req["hang"])
                return self.send_obj(200, {"delay": STATE.delay, "hang": STATE.hang})
        return self.send_obj(404, {"error": "unknown control endpoint"})


def node_from_spec(spec):
    """Create a node from {"name", "labels", "annotations", "ready", "server", "ip", "taints", "as",
    "boot_id"}.
    "as": "kubelet" (default) registers it as system:node:<name> would, so NodeRestriction's create
    rule applies; "admin" skips that. A full Node object (has "metadata") is stored as given."""
    if "metadata" in spec:
        node = copy.deepcopy(spec)
        name = node["metadata"].get("name")
        if not name:
            raise bad_request("node without metadata.name")
        node.setdefault("spec", {})
        node.setdefault("status", {})
    else:
        name = spec.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
            raise bad_request("invalid node name %r" % name)
        with STATE.lock:
            node = STATE.make_node(name, spec.get("labels"), spec.get("annotations"), spec.get("ready", "True"),
                                   bool(spec.get("server")), spec.get("ip"), spec.get("taints"))
            if isinstance(spec.get("boot_id"), str):
                node["status"]["nodeInfo"]["bootID"] = spec["boot_id"]
    if spec.get("as", "kubelet") == "kubelet" and "metadata" not in spec:
        # The kubelet registers with its own labels; K3s adds a server's role labels afterwards
        # with its own privileged identity.
        kubelet = {"name": "system:node:" + name, "groups": ["system:nodes", "system:authenticated"]}
        registered = copy.deepcopy(node)
        for k in ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"):
            if spec.get("server") and k not in (spec.get("labels") or {}):
                registered["metadata"]["labels"].pop(k, None)
        admit_node(kubelet, "create", name, registered, {})
    with STATE.lock:
        if name in STATE.nodes:
            raise ApiError(409, "AlreadyExists", 'nodes "%s" already exists' % name, details(name))
        STATE.stamp_new(node)
        STATE.nodes[name] = node
        return output_node(node)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a client that stalls
        # in the handshake cannot block others.
        request.settimeout(30)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if OPTS.hang_tls:
            for _ in range(3600):
                time.sleep(1)
            return
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        conn.settimeout(300)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if OPTS.verbose:
            super().handle_error(request, client_address)


def load_tokens(path):
    """kube-apiserver --token-auth-file: token,user,uid[,"group1,group2"] per line."""
    import csv
    tokens = {}
    if not os.path.exists(path):
        return tokens
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if len(row) < 3 or not row[0].strip() or row[0].startswith("#"):
                continue
            groups = [g.strip() for g in row[3].split(",")] if len(row) > 3 and row[3] else []
            tokens[row[0].strip()] = (row[1], row[2], [g for g in groups if g])
    return tokens


def main():
    global STATE, OPTS
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pki", required=True, help="directory made by mk-k3s-pki.sh")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--portfile", help="write the port here once listening (atomically)")
    ap.add_argument("--self-signed", action="store_true",
                    help="present PKI/self-signed.crt instead of the server-CA-signed certificate")
    ap.add_argument("--delay", type=float, default=0.0, help="sleep S seconds before each answer")
    ap.add_argument("--hang", action="store_true", help="complete TLS, read the request, never answer")
    ap.add_argument("--hang-tls", action="store_true", help="accept TCP, never start TLS")
    ap.add_argument("--nodes-file", help="JSON array of node specs or Node objects to start with")
    ap.add_argument("--node-read", choices=("own", "any"), default="own",
                    help="own: a kubelet may read only its own Node (Kubernetes >= 1.32, "
                    "AuthorizeNodeWithSelectors); any: every node (before 1.32)")
    ap.add_argument("--cacerts", help="serve this file at /cacerts instead of PKI/server-ca.crt "
                    "(a bundle K3s could not parse, for clients' checks)")
    ap.add_argument("--verbose", action="store_true")
    OPTS = ap.parse_args()
    pki = OPTS.pki
    STATE = Cluster()

    with open(OPTS.cacerts or os.path.join(pki, "server-ca.crt"), "rb") as f:
        cacerts = f.read()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])  # the real server also offers h2; this double speaks HTTP/1.1
    if OPTS.self_signed:
        ctx.load_cert_chain(os.path.join(pki, "self-signed.crt"), os.path.join(pki, "self-signed.key"))
    else:
        ctx.load_cert_chain(os.path.join(pki, "serving-kube-apiserver.crt"),
                            os.path.join(pki, "serving-kube-apiserver.key"))
    # kube-apiserver requests a client certificate but does not require one, and judges it in
    # the x509 authenticator (a bad one is 401, not a failed handshake). Python can only verify
    # during the handshake, so the other CAs of the PKI are trusted here and identities are
    # accepted only from the client CA (see README).
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.load_verify_locations(os.path.join(pki, "client-ca.crt"))
    for extra in ("untrusted-ca.crt", "server-ca.crt"):
        p = os.path.join(pki, extra)
        if os.path.exists(p):
            ctx.load_verify_locations(p)
    client_ca_cn = None
    for c in ctx.get_ca_certs():
        subj = dict(x[0] for x in c["subject"])
        if subj.get("commonName", "").startswith("k3s-client-ca"):
            client_ca_cn = subj["commonName"]

    srv = Server(("127.0.0.1", OPTS.port), Handler)
    srv.tls = ctx
    srv.cacerts = cacerts
    with open(os.path.join(pki, "token")) as f:
        srv.token_password = f.read().strip().split("::", 1)[-1].partition(":")[2]
    srv.client_ca_cn = client_ca_cn
    srv.tokens = load_tokens(os.path.join(pki, "tokens.csv"))

    if OPTS.nodes_file:
        try:
            with open(OPTS.nodes_file) as f:
                for spec in json.load(f):
                    node_from_spec(spec)
        except (OSError, ValueError, TypeError, AttributeError, ApiError) as e:
            sys.exit("k3s-double: --nodes-file %s: %s" % (OPTS.nodes_file, e))

    if OPTS.portfile:
        with open(OPTS.portfile + ".tmp", "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(OPTS.portfile + ".tmp", OPTS.portfile)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
