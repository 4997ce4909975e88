#!/usr/bin/env python3
"""K3s server / Kubernetes API test double (loopback only, Python 3 standard library).

  k3s-double.py --pki DIR [--port N] [--portfile F] [--self-signed] [--delay S] [--hang]
                [--hang-tls] [--nodes-file F] [--node-read own|any] [--state F]
                [--orphan-seconds S] [--log F]

DIR is what tests/tools/mk-k3s-pki.sh made. Serves, like K3s's supervisor port (6443):
  GET /cacerts, GET /ping                         no authentication (K3s pkg/server/handlers)
  POST|GET /v1-k3s/client-kubelet.crt,            the token's basic-auth credentials, K3s-Node-Name,
           /v1-k3s/serving-kubelet.crt            K3s-Node-Password (node-password rule), K3s-Node-IP
  GET /version, /healthz, /livez, /readyz         authenticated
  GET|POST /api/v1/nodes, GET|PATCH|DELETE /api/v1/nodes/NAME
                                                  Kubernetes API with x509/bearer authn, the Node
                                                  authorizer, RBAC-like system:masters and the
                                                  NodeRestriction admission plugin
  GET /api/v1/namespaces/kube-system/secrets[/NAME] the node-password secrets
  serviceaccounts (+ /token), rbac.authorization.k8s.io/v1 clusterroles and clusterrolebindings,
  pods (read) and pods/NAME/eviction          RBAC over stored ClusterRoleBindings (see README)
  /_double/...                                    test control, no authentication (see README)
What it follows and where that comes from: tests/k3s-double/README.md.
"""
import argparse
import base64
import copy
import datetime
import hashlib
import hmac
import http.server
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
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


# ---- node passwords (K3s pkg/nodepassword, pkg/authenticator/hash) --------------------------------

# nodepassword.go: SecretTypeNodePassword = version.Program + ".cattle.io/node-password".
NODE_PASSWORD_SECRET_TYPE = "k3s.cattle.io/node-password"
# controller.go: MinOrphanSecretAge = 10 * time.Minute (the --orphan-seconds default).
MIN_ORPHAN_SECRET_AGE = 600
# controller.go Register: the orphan sweep (nodePasswordController.sync) runs every minute.
ORPHAN_SYNC_PERIOD = 60
# hash/scrypt.go NewSCrypt: N=15 (cost 1<<15), R=8, P=1, KeyLen=64, SaltLen=8, format version 1.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_KEYLEN, SCRYPT_SALTLEN, SCRYPT_VERSION = 15, 8, 1, 64, 8, 1


def node_password_secret_name(node):
    """nodepassword.go getSecretName: lower-case "<node>.node-password.k3s"."""
    return (node + ".node-password.k3s").lower()


def scrypt_create_hash(password):
    """hash/scrypt.go SCrypt.CreateHash: "$<version>:<salt hex>:<N>:<R>:<P>:<key, base64 std, no padding>"
    where the key is scrypt(password, 8 random salt bytes, 1<<N, R, P, 64)."""
    salt = os.urandom(SCRYPT_SALTLEN)
    dk = hashlib.scrypt(password.encode(), salt=salt, n=1 << SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                        dklen=SCRYPT_KEYLEN, maxmem=256 * 1024 * 1024)
    enc = base64.b64encode(dk).decode().rstrip("=")
    return "$%d:%s:%d:%d:%d:%s" % (SCRYPT_VERSION, salt.hex(), SCRYPT_N, SCRYPT_R, SCRYPT_P, enc)


def scrypt_verify_hash(hashed, password):
    """hash/scrypt.go SCrypt.VerifyHash: None when the password matches, else the error text."""
    m = re.fullmatch(r"\$(\d+):([0-9a-f]*):(\d+):(-?\d+):(-?\d+):([A-Za-z0-9+/]*)", hashed)
    if not m:
        return "input does not match format"
    if int(m.group(1)) != SCRYPT_VERSION:
        return "hash version %s does not match package version %d" % (m.group(1), SCRYPT_VERSION)
    n, r, p, enc = int(m.group(3)), int(m.group(4)), int(m.group(5)), m.group(6)
    if not 1 <= n <= 20 or not 1 <= r <= 32 or not 1 <= p <= 16:  # keep a hostile hash bounded
        return "scrypt: parameters are too large"
    dk = base64.b64decode(enc + "=" * (-len(enc) % 4))
    verify = hashlib.scrypt(password.encode(), salt=bytes.fromhex(m.group(2)), n=1 << n, r=r, p=p,
                            dklen=len(dk), maxmem=256 * 1024 * 1024)
    if not hmac.compare_digest(dk, verify):
        return "hash does not match"
    return None


def output_secret(sec):
    """A Secret as the apiserver encodes it: ObjectMeta fields in Go order, then immutable, data, type."""
    md = sec["metadata"]
    order = ["name", "namespace", "uid", "resourceVersion", "creationTimestamp", "ownerReferences"]
    out = {"kind": "Secret", "apiVersion": "v1", "metadata": {k: copy.deepcopy(md[k]) for k in order if k in md}}
    for k in ("immutable", "data", "type"):
        if k in sec:
            out[k] = copy.deepcopy(sec[k])
    return out


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


def parse_field_selector(sel, fields=("metadata.name", "spec.unschedulable")):
    """The field selectors a resource supports (nodes: metadata.name, spec.unschedulable; pods:
    POD_FIELDS, a part of pkg/registry/core/pod/strategy.go PodToSelectableFields); = == != only."""
    reqs = []
    for p in filter(None, (x.strip() for x in sel.split(","))):
        m = re.fullmatch(r"([A-Za-z.]+)\s*(==|!=|=)\s*(.*)", p)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (sel, p))
        field, op, val = m.group(1), m.group(2), m.group(3)
        if field not in fields:
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


def node_authorizer(user, verb, resource, name, sub=""):
    """The Node authorizer (AuthorizeNodeWithSelectors, default since 1.32) for nodes:
    ("allow", "") or ("noopinion", reason)."""
    node = node_identity(user)
    if node is None:
        return "noopinion", ""
    if node == "":
        return "noopinion", 'unknown node for user "%s"' % user["name"]
    if resource == "secrets":
        # authorizeReadNamespacedObject, then authorize -> hasPathFrom: no pod of the node
        # references a node-password secret
        if verb == "get":
            return "noopinion", "no relationship found between node '%s' and this object" % node
        if verb in ("list", "watch"):
            return "noopinion", "can only get individual resources of this type"
        return "noopinion", "can only read resources of this type"
    if resource != "nodes":
        return "noopinion", ""
    if sub == "status":
        return ("allow", "") if verb in ("update", "patch") else ("noopinion", "")
    if verb in ("create", "update", "patch"):
        return "allow", ""  # NodeRestriction decides
    if verb in ("get", "list", "watch"):
        if OPTS.node_read == "any":  # before 1.32: the static node rules allowed reading all nodes
            return "allow", ""
        if name == node:
            return "allow", ""
        if not name:
            return "noopinion", "node '%s' cannot read all nodes, only its own Node object" % node
        return "noopinion", "node '%s' cannot read '%s', only its own Node object" % (node, name)
    return "noopinion", ""


def rbac_subject_matches(subject, user):
    """pkg/registry/rbac/validation/rule.go appliesToUser: User by name, Group by membership,
    ServiceAccount as the user name system:serviceaccount:<namespace>:<name>."""
    kind = subject.get("kind")
    if kind == "User":
        return subject.get("name") == user["name"]
    if kind == "Group":
        return subject.get("name") in user["groups"]
    if kind == "ServiceAccount":
        ns = subject.get("namespace") or ""
        return bool(ns) and user["name"] == "system:serviceaccount:%s:%s" % (ns, subject.get("name"))
    return False


def rbac_rule_allows(rule, verb, group, resource, sub, name):
    """plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows with rbac/v1 helpers VerbMatches,
    APIGroupMatches, ResourceMatches (the combined "resource/subresource", "*", "*/subresource"),
    ResourceNameMatches (an empty list matches every name)."""
    verbs, groups = rule.get("verbs") or [], rule.get("apiGroups") or []
    resources, names = rule.get("resources") or [], rule.get("resourceNames") or []
    if "*" not in verbs and verb not in verbs:
        return False
    if "*" not in groups and group not in groups:
        return False
    combined = resource + "/" + sub if sub else resource
    if not any(r == "*" or r == combined or (sub and r == "*/" + sub) for r in resources):
        return False
    return not names or name in names


def rbac_authorizer(user, verb, group, resource, sub, name):
    """plugin/pkg/auth/authorizer/rbac/rbac.go Authorize over the stored ClusterRoleBindings
    (VisitRulesFor): allowed by the first rule that matches; otherwise NoOpinion, with the reason
    "RBAC: <errors>" only when a binding names a ClusterRole that does not exist. RoleBindings,
    aggregated ClusterRoles and the bootstrap roles (but system:masters) are not modelled."""
    errors = []
    with STATE.lock:
        bindings = [copy.deepcopy(b) for _, b in sorted(STATE.clusterrolebindings.items())]
        roles = {n: copy.deepcopy(r) for n, r in STATE.clusterroles.items()}
    for b in bindings:
        if not any(rbac_subject_matches(s, user) for s in b.get("subjects") or []):
            continue
        ref = b.get("roleRef") or {}
        role = roles.get(ref.get("name")) if ref.get("kind") == "ClusterRole" else None
        if role is None:
            errors.append('clusterrole.rbac.authorization.k8s.io "%s" not found' % ref.get("name"))
            continue
        if any(rbac_rule_allows(r, verb, group, resource, sub, name) for r in role.get("rules") or []):
            return "allow", ""
    if not errors:
        return "noopinion", ""
    # utilerrors.NewAggregate: one error prints alone, several as "[a, b]"
    return "noopinion", "RBAC: " + (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")


def authorize_request(user, verb, group, resource, sub="", name="", namespace=""):
    """--authorization-mode=Node,RBAC through the union authorizer
    (apiserver/pkg/authorization/union/union.go): the first Allow wins; the reasons of the
    others are joined with newlines. system:masters is bound to cluster-admin by the bootstrap
    policy. Returns None when allowed, else the reason text ('' for none)."""
    if "system:masters" in user["groups"]:
        return None
    reasons = []
    for decision, reason in (node_authorizer(user, verb, resource, name, sub),
                             rbac_authorizer(user, verb, group, resource, sub, name)):
        if decision == "allow":
            return None
        if reason:
            reasons.append(reason)
    return "\n".join(reasons)


def authorize(user, verb, name, sub=""):
    """authorize_request for nodes (the double's first resource)."""
    return authorize_request(user, verb, "", "nodes", sub, name or "")


def forbidden_for(user, verb, group, resource, sub, name, namespace, reason):
    """responsewriters/errors.go Forbidden: forbiddenMessage's text in errors.NewForbidden for the
    request's GroupResource ("resource.group", the subresource only in the message)."""
    shown = resource + "/" + sub if sub else resource
    msg = 'User "%s" cannot %s resource "%s" in API group "%s" ' % (user["name"], verb, shown, group)
    msg += 'in the namespace "%s"' % namespace if namespace else "at the cluster scope"
    if reason:
        msg += ": " + reason
    qualified = resource + "." + group if group else resource
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    d["kind"] = resource
    head = '%s "%s"' % (qualified, name) if name else qualified
    return ApiError(403, "Forbidden", "%s is forbidden: %s" % (head, msg), d)


def check(user, verb, group, resource, sub="", name="", namespace=""):
    """Authorize or raise the apiserver's 403."""
    reason = authorize_request(user, verb, group, resource, sub, name, namespace)
    if reason is not None:
        raise forbidden_for(user, verb, group, resource, sub, name, namespace, reason)


def deny(user, verb, name, reason, sub=""):
    return forbidden_for(user, verb, "", "nodes", sub, name, "", reason)


# ---- the cluster -------------------------------------------------------------------------------

CONDITION_TEXT = {  # what the kubelet reports (pkg/kubelet/nodestatus/setters.go)
    "MemoryPressure": ("KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("KubeletHasSufficientPID", "kubelet has sufficient PID available"),
}


class Cluster:
    def __init__(self):
        self.lock = threading.Lock()
        # API requests not yet in the log: each is recorded after its answer went out, so a
        # client may see the answer first; GET and DELETE of /_double/log wait for them
        self.unrecorded = 0
        self.rv = 100
        self.nodes = {}
        self.log = []
        self.pod_cidr = 0
        self.delay = OPTS.delay
        self.hang = OPTS.hang
        self.secrets = {}  # kube-system Secrets by name (only node-password secrets exist here)
        self.secret_created = {}  # name -> creation time (epoch seconds) for the orphan sweep
        self.saved_rv = None  # resourceVersion last written to --state
        self.serviceaccounts = {}  # "namespace/name" -> ServiceAccount
        self.clusterroles = {}  # name -> ClusterRole
        self.clusterrolebindings = {}  # name -> ClusterRoleBinding
        self.pods = {}  # "namespace/name" -> Pod
        # "namespace/name" -> [PodDisruptionBudget name, evictions it still refuses]
        self.pod_budgets = {}
        # the key service account tokens are signed with (K3s: service.key; here HMAC, see README)
        self.sa_key = os.urandom(32).hex()
        # K3s's passwd file (pkg/daemons/control/deps genUsers): the supervisor's basic-auth
        # users; set from the PKI's token in main(), changed by POST /_double/k3s-tokens
        self.k3s_users = {}

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    # -- node passwords; the caller holds self.lock

    def ensure_node_password(self, node, password):
        """K3s nodepassword.go ensure (called by validate.go GetNodeAuthValidator): verify the
        password against the node's secret if it exists, else create the secret with its hash.
        Returns None when accepted, else the error text of passwordError (403)."""
        name = node_password_secret_name(node)
        sec = self.secrets.get(name)
        if sec is not None:
            hashed = sec.get("data", {}).get("hash")
            if hashed is None:
                err = "password hash not found in node secret"
            else:
                err = scrypt_verify_hash(base64.b64decode(hashed).decode("utf-8", "replace"), password)
            return None if err is None else "unable to verify password for node %s: %s" % (node, err)
        # Immutable, type k3s.cattle.io/node-password, data {"hash": <scrypt hash>}.
        self.secrets[name] = {
            "kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "kube-system", "uid": str(uuid.uuid4()),
                         "resourceVersion": self.next_rv(), "creationTimestamp": now_rfc3339()},
            "immutable": True,
            "data": {"hash": base64.b64encode(scrypt_create_hash(password).encode()).decode()},
            "type": NODE_PASSWORD_SECRET_TYPE,
        }
        self.secret_created[name] = time.time()
        self.link_owner(node)
        return None

    def link_owner(self, node):
        """K3s controller.go onChangeNode: once the Node exists, its password secret gets an
        OwnerReference {apiVersion v1, kind Node, name, uid} (no controller/blockOwnerDeletion),
        so the garbage collector deletes the secret with the Node. Called on every stored
        change of a Node (the controller's OnChange) and when the secret is created."""
        n = self.nodes.get(node)
        sec = self.secrets.get(node_password_secret_name(node))
        if n is None or sec is None:
            return
        ref = {"apiVersion": "v1", "kind": "Node", "name": node, "uid": n["metadata"]["uid"]}
        refs = sec["metadata"].setdefault("ownerReferences", [])
        if ref not in refs:
            refs.append(ref)
            sec["metadata"]["resourceVersion"] = self.next_rv()

    def collect_garbage(self, node_uid):
        """The garbage collector (kube-controller-manager, pkg/controller/garbagecollector): with
        the default background propagation, dependents whose ownerReferences name the deleted
        owner's uid are deleted. Here at once, in the same request."""
        for name in [n for n, sec in self.secrets.items()
                     if any(r.get("uid") == node_uid for r in sec["metadata"].get("ownerReferences", []))]:
            self.delete_secret(name)
        # mirror pods: the kubelet makes the Node their owner (pkg/kubelet/pod/mirror_client.go)
        for key in [k for k, pod in self.pods.items()
                    if any(r.get("uid") == node_uid for r in pod["metadata"].get("ownerReferences", []))]:
            self.pods.pop(key)
            self.next_rv()

    def delete_secret(self, name):
        self.secrets.pop(name, None)
        self.secret_created.pop(name, None)
        self.next_rv()

    def delete_node(self, name):
        gone = self.nodes.pop(name, None)
        if gone is not None:
            self.next_rv()
            self.collect_garbage(gone["metadata"].get("uid"))
        return gone

    def sweep_orphans(self, now=None):
        """K3s controller.go nodePasswordController.sync: delete node-password secrets older
        than MinOrphanSecretAge (--orphan-seconds) whose name matches no existing Node's."""
        now = time.time() if now is None else now
        wanted = {node_password_secret_name(n) for n in self.nodes}
        for name in [n for n, sec in self.secrets.items() if sec.get("type") == NODE_PASSWORD_SECRET_TYPE
                     and n not in wanted and now - self.secret_created.get(n, now) >= OPTS.orphan_seconds]:
            self.delete_secret(name)

    # -- --state: the cluster on disk

    def save(self):
        """Write nodes, secrets and the resourceVersion counter to --state (atomically, by
        rename) if anything changed since the last write (every change bumps self.rv)."""
        if not OPTS.state or self.saved_rv == self.rv:
            return
        data = {"version": 1, "rv": self.rv, "pod_cidr": self.pod_cidr, "nodes": self.nodes,
                "secrets": self.secrets, "secret_created": self.secret_created,
                "serviceaccounts": self.serviceaccounts, "clusterroles": self.clusterroles,
                "clusterrolebindings": self.clusterrolebindings, "pods": self.pods,
                "sa_key": self.sa_key, "k3s_users": self.k3s_users}
        tmp = "%s.tmp.%d" % (OPTS.state, os.getpid())
        with open(tmp, "w") as f:
            json.dump(data, f, separators=(",", ":"), sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, OPTS.state)
        self.saved_rv = self.rv

    def load(self, path):
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("not a k3s-double state file (version 1)")
        self.rv = int(data["rv"])
        self.pod_cidr = int(data.get("pod_cidr", 0))
        self.nodes = dict(data.get("nodes", {}))
        self.secrets = dict(data.get("secrets", {}))
        self.secret_created = {k: float(v) for k, v in data.get("secret_created", {}).items()}
        for k in ("serviceaccounts", "clusterroles", "clusterrolebindings", "pods", "k3s_users"):
            if k in data:  # a state file of an older double has none: keep what is set
                setattr(self, k, dict(data[k]))
        self.sa_key = str(data.get("sa_key") or self.sa_key)
        self.saved_rv = self.rv

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


# ---- service accounts, RBAC, pods ----------------------------------------------------------------

# Namespaces a K3s cluster starts with; the double has no Namespace objects. Creating in another
# one is refused as the NamespaceLifecycle admission plugin refuses it.
NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
RBAC_GROUP = "rbac.authorization.k8s.io"
# K3s pkg/daemons/control/server.go: service-account-issuer and api-audiences (cluster domain
# cluster.local).
SA_ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCES = [SA_ISSUER, "k3s"]
# pkg/apis/authentication/validation ValidateTokenRequest; k8s.io/api/authentication/v1 default.
TOKEN_MIN_SECONDS, TOKEN_MAX_SECONDS, TOKEN_DEFAULT_SECONDS = 600, 1 << 32, 3600
# kubectl drain's and the Node authorizer's field: the pods of a node.
POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "status.phase")


def namespace_exists(ns):
    with STATE.lock:
        return ns in NAMESPACES or any(k.split("/", 1)[0] == ns for k in STATE.pods)


def object_meta(name, namespace=None):
    md = {"name": name}
    if namespace is not None:
        md["namespace"] = namespace
    md.update({"uid": str(uuid.uuid4()), "resourceVersion": STATE.next_rv(),
               "creationTimestamp": now_rfc3339()})
    return md


def output_obj(obj, kind, api_version, in_list=False):
    """kind, apiVersion, then metadata in ObjectMeta's Go order, then the rest as stored."""
    o = copy.deepcopy(obj)
    md = o.pop("metadata", {})
    order = ["name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp",
             "deletionTimestamp", "labels", "annotations", "ownerReferences"]
    out = {} if in_list else {"kind": kind, "apiVersion": api_version}
    out["metadata"] = {**{k: md[k] for k in order if k in md}, **{k: v for k, v in md.items() if k not in order}}
    for k, v in o.items():
        if k not in ("kind", "apiVersion"):
            out[k] = v
    return out


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def make_sa_token(sa, seconds, audiences):
    """A JWT as pkg/serviceaccount/claims.go Claims lays it out (iss, sub, aud, exp, iat, nbf, jti,
    kubernetes.io.namespace and .serviceaccount {name, uid}), signed with HS256 and the double's
    key (kube-apiserver signs with RS256/ES256 and service.key)."""
    now = int(time.time())
    md = sa["metadata"]
    claims = {"aud": audiences, "exp": now + seconds, "iat": now, "iss": SA_ISSUER, "jti": str(uuid.uuid4()),
              "kubernetes.io": {"namespace": md["namespace"],
                                "serviceaccount": {"name": md["name"], "uid": md["uid"]}},
              "nbf": now, "sub": "system:serviceaccount:%s:%s" % (md["namespace"], md["name"])}
    head = b64url(json.dumps({"alg": "HS256", "kid": STATE.sa_key[:16]}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(bytes.fromhex(STATE.sa_key), (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + b64url(sig), now + seconds


def sa_token_user(tok):
    """The service account token authenticator (pkg/serviceaccount/jwt.go, claims.go Validate):
    a valid signature, not expired, and the ServiceAccount still exists with the claim's uid; the
    user is system:serviceaccount:<ns>:<name> in system:serviceaccounts and
    system:serviceaccounts:<ns> (pkg/serviceaccount/util.go UserInfo), plus system:authenticated."""
    parts = tok.split(".")
    if len(parts) != 3:
        return None
    want = hmac.new(bytes.fromhex(STATE.sa_key), (parts[0] + "." + parts[1]).encode(), hashlib.sha256).digest()
    try:
        got = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        ns = claims["kubernetes.io"]["namespace"]
        name = claims["kubernetes.io"]["serviceaccount"]["name"]
        uid = claims["kubernetes.io"]["serviceaccount"]["uid"]
        exp = int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    if not hmac.compare_digest(want, got) or exp <= time.time():
        return None
    with STATE.lock:
        sa = STATE.serviceaccounts.get("%s/%s" % (ns, name))
        if sa is None or sa["metadata"]["uid"] != uid:
            return None
    return {"name": "system:serviceaccount:%s:%s" % (ns, name), "uid": uid,
            "groups": ["system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"],
            "auth": "serviceaccount"}


def invalid(kind, name, causes):
    """errors.NewInvalid: 422 with field causes."""
    full = ["%s: %s" % (f, m) for f, m in causes]
    agg = full[0] if len(full) == 1 else "[" + ", ".join(full) + "]"
    return ApiError(422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, agg), {
        "name": name, "kind": kind,
        "causes": [{"reason": "FieldValueRequired" if m.startswith("Required") else "FieldValueInvalid",
                    "message": m, "field": f} for f, m in causes]})


def validate_rbac(resource, obj):
    """pkg/apis/rbac/validation: ValidateClusterRole (a resource rule needs verbs and apiGroups and
    resources or nonResourceURLs), ValidateClusterRoleBinding (roleRef.apiGroup rbac, kind
    ClusterRole, a name; subjects of kind User, Group or ServiceAccount, a ServiceAccount with a
    namespace)."""
    name = obj["metadata"]["name"]
    causes = []
    if resource == "clusterroles":
        for i, r in enumerate(obj.get("rules") or []):
            if not isinstance(r, dict):
                raise bad_request("json: cannot unmarshal into Go struct field ClusterRole.rules")
            if not r.get("verbs"):
                causes.append(("rules[%d].verbs" % i, "Required value: verbs must contain at least one value"))
            if r.get("nonResourceURLs"):
                continue
            if not r.get("apiGroups"):
                causes.append(("rules[%d].apiGroups" % i, "Required value: resource rules must supply at least one api group"))
            if not r.get("resources"):
                causes.append(("rules[%d].resources" % i, "Required value: resource rules must supply at least one resource"))
        if causes:
            raise invalid("ClusterRole.rbac.authorization.k8s.io", name, causes)
        return
    ref = obj.get("roleRef") or {}
    if ref.get("apiGroup") != RBAC_GROUP:
        causes.append(("roleRef.apiGroup", 'Unsupported value: "%s": supported values: "%s"' % (ref.get("apiGroup", ""), RBAC_GROUP)))
    if ref.get("kind") != "ClusterRole":
        causes.append(("roleRef.kind", 'Unsupported value: "%s": supported values: "ClusterRole"' % ref.get("kind", "")))
    if not ref.get("name"):
        causes.append(("roleRef.name", "Required value"))
    for i, sub in enumerate(obj.get("subjects") or []):
        kind = sub.get("kind") if isinstance(sub, dict) else None
        if kind not in ("User", "Group", "ServiceAccount"):
            causes.append(("subjects[%d].kind" % i, 'Unsupported value: "%s": supported values: "ServiceAccount", "User", "Group"' % kind))
        elif not sub.get("name"):
            causes.append(("subjects[%d].name" % i, "Required value"))
        elif kind == "ServiceAccount" and not sub.get("namespace"):
            causes.append(("subjects[%d].namespace" % i, "Required value"))
    if causes:
        raise invalid("ClusterRoleBinding.rbac.authorization.k8s.io", name, causes)


def pod_field(pod, field):
    if field == "metadata.name":
        return pod["metadata"]["name"]
    if field == "metadata.namespace":
        return pod["metadata"]["namespace"]
    if field == "spec.nodeName":
        return (pod.get("spec") or {}).get("nodeName", "")
    return (pod.get("status") or {}).get("phase", "")


def pod_from_spec(spec):
    """A Pod for POST /_double/pods: {"namespace", "name", "node", "phase", "owner": {"kind",
    "name"}, "mirror": bool} or a whole Pod object (has "metadata")."""
    if "metadata" in spec:
        pod = copy.deepcopy(spec)
        ns = pod["metadata"].setdefault("namespace", "default")
        name = pod["metadata"]["name"]
    else:
        ns, name = spec.get("namespace", "default"), spec.get("name")
        pod = {"metadata": {"name": name, "namespace": ns},
               "spec": {"nodeName": spec.get("node", ""), "containers": [{"name": "c", "image": "pause"}]},
               "status": {"phase": spec.get("phase", "Running")}}
    for v in (ns, name):
        if not isinstance(v, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", v):
            raise bad_request("invalid pod namespace or name %r" % v)
    with STATE.lock:
        if "%s/%s" % (ns, name) in STATE.pods:
            raise ApiError(409, "AlreadyExists", 'pods "%s" already exists' % name, details(name, "pods"))
        md = pod["metadata"]
        md.update({k: v for k, v in object_meta(name, ns).items() if k not in md})
        owner = spec.get("owner")
        if isinstance(owner, dict):
            # a controller's pod (pkg/controller/controller_utils.go: controller and blockOwnerDeletion)
            md["ownerReferences"] = [{"apiVersion": owner.get("apiVersion", "apps/v1"), "kind": owner["kind"],
                                      "name": owner["name"], "uid": owner.get("uid", str(uuid.uuid4())),
                                      "controller": True, "blockOwnerDeletion": True}]
        if spec.get("mirror"):
            # pkg/kubelet/pod/mirror_client.go CreateMirrorPod: the config.mirror annotation and
            # the Node as controller owner
            md.setdefault("annotations", {})["kubernetes.io/config.mirror"] = hashlib.md5(name.encode()).hexdigest()
            node = STATE.nodes.get(pod["spec"].get("nodeName", ""))
            if node is not None:
                md["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node", "name": node["metadata"]["name"],
                                          "uid": node["metadata"]["uid"], "controller": True}]
        budget = spec.get("disruption_budget")
        if isinstance(budget, dict):
            STATE.pod_budgets["%s/%s" % (ns, name)] = [str(budget.get("name", "pdb")), int(budget.get("refusals", 1))]
        STATE.pods["%s/%s" % (ns, name)] = pod
        return output_obj(pod, "Pod", "v1")


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

    def k3s_error(self, code, message):
        """K3s pkg/util/apierrors.go SendError: a Status (400 BadRequest, 403 Forbidden with only
        status/message/reason/code, 500 InternalError) and "Connection: close"."""
        reason = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden"}.get(code, "InternalError")
        if code == 500:
            message = "Internal error occurred: " + message
        self.close_connection = True
        self.send(code, go_json(ApiError(code, reason, message).status()), extra={"Connection": "close"})

    def kubelet_cert(self, kind):
        """K3s supervisor routes /v1-k3s/client-kubelet.crt and /v1-k3s/serving-kubelet.crt
        (pkg/server/handlers/router.go NewHandler; handlers.go ClientKubeletCert, ServingKubeletCert).
        Authentication: HTTP basic auth with the token's credentials (user "node", or "server" with
        the server token). Then the node-auth validator (pkg/nodepassword/validate.go
        GetNodeAuthValidator, getNodeInfo): no K3s-Node-Name -> 400 "node name not set", no
        K3s-Node-Password -> 400 "node password not set"; the name is lower-cased; the password
        is checked against (or first stored in) the Secret kube-system/<node>.node-password.k3s
        (nodepassword.go ensure): a mismatch is 403. Then signAndSend (handlers.go): a POST whose
        body parses as a DER certificate request gets a certificate for the request's public key,
        answered as the leaf followed by the CA bundle; anything else (GET, the legacy form) gets
        a certificate for a key the server made, answered as leaf, CA bundle and that key."""
        auth = self.headers.get("Authorization", "")
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                with STATE.lock:
                    want = STATE.k3s_users.get(user)
                ok = want is not None and hmac.compare_digest(pw.encode(), want.encode())
            except (ValueError, UnicodeDecodeError):
                ok = False
        if not ok:
            return self.send(401, b"Unauthorized\n", "text/plain; charset=utf-8")
        name = (self.headers.get("K3s-Node-Name") or "").lower()
        password = self.headers.get("K3s-Node-Password") or ""
        if not name:
            return self.k3s_error(400, "node name not set")
        if not password:
            return self.k3s_error(400, "node password not set")
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
            # Not a K3s rule: the double keeps node names safe for its file names.
            return self.k3s_error(400, "invalid K3s-Node-Name")
        with STATE.lock:
            err = STATE.ensure_node_password(name, password)
        if err is not None:
            return self.k3s_error(403, err)
        ips = ["127.0.0.1"]
        if kind == "serving":
            # ServingKubeletCert: K3s-Node-IP is a comma-separated list; a bad one is a 500.
            for v in filter(None, (self.headers.get("K3s-Node-IP") or "").split(",")):
                try:
                    ips.append(str(ipaddress.ip_address(v.strip())))
                except ValueError:
                    return self.k3s_error(500, "invalid node IP address %s" % v)
        csr = self.csr_body if self.command == "POST" else None
        try:
            body = issue_kubelet_cert(kind, name, ips, csr)
        except (OSError, subprocess.CalledProcessError) as e:
            return self.k3s_error(500, "failed to sign certificate: %s" % e)
        # The handler sets no Content-Type; Go's sniffing makes PEM text/plain; charset=utf-8.
        return self.send(200, body, "text/plain; charset=utf-8")

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
                else:
                    user = sa_token_user(tok)
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
            self.control(path)
            return self.save_state()
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
        with STATE.lock:
            STATE.unrecorded += 1
        try:
            body = self.read_body()
            if path == "/cacerts" and self.command in ("GET", "HEAD"):
                # pkg/server/handlers CACerts: the server CA file as read from disk, "text/plain".
                return self.send(200, self.server.cacerts, "text/plain")
            if path == "/ping" and self.command in ("GET", "HEAD"):
                # Ping sets its headers after WriteHeader, so Go sniffs the type of "pong".
                return self.send(200, b"pong", "text/plain; charset=utf-8")
            if path in ("/v1-k3s/client-kubelet.crt", "/v1-k3s/serving-kubelet.crt") and \
                    self.command in ("GET", "POST"):
                self.csr_body = body
                return self.kubelet_cert(path[len("/v1-k3s/"):].split("-", 1)[0])
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
            with STATE.lock:
                STATE.unrecorded -= 1
            self.save_state()

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
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets", path)
        if m and self.command == "GET":
            return self.list_secrets(m.group(1), user)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/secrets/([^/]+)", path)
        if m:
            return self.secret(m.group(1), m.group(2), user)
        m = re.fullmatch(r"/api/v1/namespaces/([^/]+)/serviceaccounts(?:/([^/]+))?(?:/(token))?", path)
        if m and not (m.group(3) and not m.group(2)):
            return self.serviceaccount(m.group(1), m.group(2), m.group(3), body, user)
        m = re.fullmatch(r"/apis/rbac\.authorization\.k8s\.io/v1/(clusterroles|clusterrolebindings)(?:/([^/]+))?", path)
        if m:
            return self.rbac_object(m.group(1), m.group(2), body, user)
        m = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/pods(?:/([^/]+))?(?:/(eviction))?", path)
        if m and not (m.group(2) and not m.group(1)) and not (m.group(3) and not m.group(2)):
            return self.pod(m.group(1), m.group(2), m.group(3), q, body, user)
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
        if name is not None and not sub and self.command == "DELETE":
            return self.delete_node(name, user)
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

    def delete_node(self, name, user):
        """DELETE /api/v1/nodes/NAME. Authorization first: the Node authorizer's authorizeNode
        has no rule for delete (NoOpinion, no reason) and the system:node role (bootstrappolicy
        NodeRules) grants only create/get/list/watch/update/patch of nodes, so a kubelet gets 403
        for any node, its own included; NodeRestriction is never reached. system:masters: the
        generic registry Store.finalizeDelete answers 200 with a Status Success whose details
        are name, kind "nodes" (the resource, sic) and uid, no code. The garbage collector then
        deletes what the Node owned: its node-password secret (K3s controller.go onChangeNode)."""
        reason = authorize(user, "delete", name)
        if reason is not None:
            raise deny(user, "delete", name, reason)
        with STATE.lock:
            gone = STATE.delete_node(name)
            if gone is None:
                raise not_found(name)
        self.send_obj(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                            "details": {"name": name, "kind": "nodes", "uid": gone["metadata"].get("uid")}})

    def secret(self, namespace, name, user):
        """GET /api/v1/namespaces/NS/secrets/NAME. system:masters may; a node identity goes
        through the Node authorizer's authorizeReadNamespacedObject -> authorize -> hasPathFrom:
        a node-password secret is referenced by no pod of the node, so NoOpinion with "no
        relationship found between node '<node>' and this object" and 403 (RBAC's system:node
        role has no secrets rule); anyone else 403 without a reason."""
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(self.command, "create")
        check(user, verb, "", "secrets", "", name, namespace)
        if self.command != "GET":
            raise ApiError(405, "MethodNotAllowed", "the double serves secrets read-only", {"kind": "secrets"})
        with STATE.lock:
            sec = STATE.secrets.get(name) if namespace == "kube-system" else None
            if sec is None:
                raise ApiError(404, "NotFound", 'secrets "%s" not found' % name, details(name, "secrets"))
            out = output_secret(sec)
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
            STATE.link_owner(name)
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
                STATE.link_owner(name)
            else:
                md["resourceVersion"] = cur["metadata"]["resourceVersion"]  # a no-op write is not stored
            out = output_node(STATE.nodes[name])
        self.send_obj(200, out)

    def list_secrets(self, namespace, user):
        """GET /api/v1/namespaces/NS/secrets: SecretList (only the node-password secrets exist)."""
        check(user, "list", "", "secrets", "", "", namespace)
        with STATE.lock:
            items = [output_secret(v) for _, v in sorted(STATE.secrets.items())] if namespace == "kube-system" else []
            for it in items:
                it.pop("kind"), it.pop("apiVersion")
            rv = str(STATE.rv)
        self.send_obj(200, {"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
                            "items": items})

    def json_body(self, body, kinds, api_versions):
        """A create body: application/json (or none), an object whose kind and apiVersion, when
        given, are the expected ones (the codec's errors are 400)."""
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise ApiError(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                           "accepted media types include: " + ", ".join(BODY_TYPES))
        try:
            obj = json.loads(body or b"null")
        except ValueError as e:
            raise bad_request("Object 'Kind' is missing in '%s'" % body[:100].decode("utf-8", "replace")) from e
        if not isinstance(obj, dict):
            raise bad_request("Object 'Kind' is missing in '%s'" % body[:100].decode("utf-8", "replace"))
        if obj.get("kind") not in (None,) + kinds:
            raise bad_request("no kind \"%s\" is registered for the expected version" % obj.get("kind"))
        if obj.get("apiVersion") not in (None,) + api_versions:
            raise bad_request("the API version in the data (%s) does not match the expected API version (%s)"
                              % (obj.get("apiVersion"), api_versions[0]))
        md = obj.get("metadata")
        if md is not None and not isinstance(md, dict):
            raise bad_request("json: cannot unmarshal into Go struct field of type v1.ObjectMeta")
        return obj

    def new_namespaced(self, obj, namespace, resource, kind):
        """The create path of a namespaced object: metadata.name required (422), the object's
        namespace must be the request's (rest.EnsureObjectNamespaceMatchesRequestNamespace, 400),
        the namespace must exist (NamespaceLifecycle admission, 404)."""
        md = obj.setdefault("metadata", {})
        name = md.get("name") or ""
        if md.get("namespace") not in (None, "", namespace):
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        if not name:
            raise invalid(kind, "", [("metadata.name", "Required value: name or generateName is required")])
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", name):
            raise invalid(kind, name, [("metadata.name", 'Invalid value: "%s": %s' % (
                name, regex_error(DNS1123_MSG, DNS1123_FMT, "example.com")))])
        if not namespace_exists(namespace):
            raise ApiError(404, "NotFound", 'namespaces "%s" not found' % namespace, details(namespace, "namespaces"))
        return name

    def serviceaccount(self, namespace, name, token, body, user):
        """ServiceAccounts (pkg/registry/core/serviceaccount) and their token subresource
        (pkg/registry/core/serviceaccount/storage/token.go TokenREST.Create)."""
        key = "%s/%s" % (namespace, name)
        if token:
            if self.command != "POST":
                raise ApiError(405, "MethodNotAllowed", '%s is not supported on resources of kind "serviceaccounts/token"'
                               % self.command.lower(), {"kind": "serviceaccounts/token"})
            check(user, "create", "", "serviceaccounts", "token", name, namespace)
            req = self.json_body(body, ("TokenRequest",), ("authentication.k8s.io/v1",))
            spec = req.get("spec") or {}
            seconds = spec.get("expirationSeconds", TOKEN_DEFAULT_SECONDS)
            if not isinstance(seconds, int) or isinstance(seconds, bool):
                raise bad_request("json: cannot unmarshal into Go struct field TokenRequestSpec.spec.expirationSeconds of type int64")
            if seconds < TOKEN_MIN_SECONDS:
                raise invalid("TokenRequest.authentication.k8s.io", name, [(
                    "spec.expirationSeconds", "Invalid value: %d: may not specify a duration less than 10 minutes" % seconds)])
            if seconds > TOKEN_MAX_SECONDS:
                raise invalid("TokenRequest.authentication.k8s.io", name, [(
                    "spec.expirationSeconds", "Invalid value: %d: may not specify a duration larger than 2^32 seconds" % seconds)])
            with STATE.lock:
                sa = copy.deepcopy(STATE.serviceaccounts.get(key))
            if sa is None:
                raise ApiError(404, "NotFound", 'serviceaccounts "%s" not found' % name, details(name, "serviceaccounts"))
            auds = spec.get("audiences") or API_AUDIENCES
            tok, exp = make_sa_token(sa, seconds, auds)
            exp_ts = datetime.datetime.fromtimestamp(exp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return self.send_obj(201, {
                "kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                "metadata": {"name": name, "namespace": namespace, "creationTimestamp": None},
                "spec": {"audiences": auds, "expirationSeconds": seconds, "boundObjectRef": None},
                "status": {"token": tok, "expirationTimestamp": exp_ts}})
        if name is None and self.command == "GET":
            check(user, "list", "", "serviceaccounts", "", "", namespace)
            with STATE.lock:
                items = [output_obj(v, "ServiceAccount", "v1", True) for k, v in sorted(STATE.serviceaccounts.items())
                         if k.split("/", 1)[0] == namespace]
                rv = str(STATE.rv)
            return self.send_obj(200, {"kind": "ServiceAccountList", "apiVersion": "v1",
                                       "metadata": {"resourceVersion": rv}, "items": items})
        if name is None and self.command == "POST":
            check(user, "create", "", "serviceaccounts", "", "", namespace)
            obj = self.json_body(body, ("ServiceAccount",), ("v1",))
            name = self.new_namespaced(obj, namespace, "serviceaccounts", "ServiceAccount")
            key = "%s/%s" % (namespace, name)
            with STATE.lock:
                if key in STATE.serviceaccounts:
                    raise ApiError(409, "AlreadyExists", 'serviceaccounts "%s" already exists' % name,
                                   details(name, "serviceaccounts"))
                md = obj["metadata"]
                md.update(object_meta(name, namespace))
                obj.pop("kind", None), obj.pop("apiVersion", None)
                STATE.serviceaccounts[key] = obj
                out = output_obj(obj, "ServiceAccount", "v1")
            return self.send_obj(201, out)
        if name is not None and self.command == "GET":
            check(user, "get", "", "serviceaccounts", "", name, namespace)
            with STATE.lock:
                sa = STATE.serviceaccounts.get(key)
                if sa is None:
                    raise ApiError(404, "NotFound", 'serviceaccounts "%s" not found' % name, details(name, "serviceaccounts"))
                return self.send_obj(200, output_obj(sa, "ServiceAccount", "v1"))
        raise ApiError(405, "MethodNotAllowed", '%s is not supported on resources of kind "serviceaccounts"'
                       % self.command.lower(), {"kind": "serviceaccounts"})

    def rbac_object(self, resource, name, body, user):
        """ClusterRoles and ClusterRoleBindings (pkg/registry/rbac). Only system:masters (or a user
        RBAC lets create them) may; the escalation checks of pkg/registry/rbac/*/policybased (the
        creator must hold the permissions, or have escalate/bind) are not modelled."""
        kind = "ClusterRole" if resource == "clusterroles" else "ClusterRoleBinding"
        store = STATE.clusterroles if resource == "clusterroles" else STATE.clusterrolebindings
        api_version = RBAC_GROUP + "/v1"
        det = {"group": RBAC_GROUP, "kind": resource}
        if name is None and self.command == "GET":
            check(user, "list", RBAC_GROUP, resource)
            with STATE.lock:
                items = [output_obj(v, kind, api_version, True) for _, v in sorted(store.items())]
                rv = str(STATE.rv)
            return self.send_obj(200, {"kind": kind + "List", "apiVersion": api_version,
                                       "metadata": {"resourceVersion": rv}, "items": items})
        if name is None and self.command == "POST":
            check(user, "create", RBAC_GROUP, resource)
            obj = self.json_body(body, (kind,), (api_version,))
            md = obj.setdefault("metadata", {})
            name = md.get("name") or ""
            if not name:
                raise invalid(kind + "." + RBAC_GROUP, "", [("metadata.name", "Required value: name or generateName is required")])
            validate_rbac(resource, obj)
            with STATE.lock:
                if name in store:
                    raise ApiError(409, "AlreadyExists", '%s.%s "%s" already exists' % (resource, RBAC_GROUP, name),
                                   {"name": name, **det})
                md.pop("namespace", None)
                md.update(object_meta(name))
                obj.pop("kind", None), obj.pop("apiVersion", None)
                store[name] = obj
                out = output_obj(obj, kind, api_version)
            return self.send_obj(201, out)
        if name is not None and self.command == "GET":
            check(user, "get", RBAC_GROUP, resource, "", name)
            with STATE.lock:
                obj = store.get(name)
                if obj is None:
                    raise ApiError(404, "NotFound", '%s.%s "%s" not found' % (resource, RBAC_GROUP, name),
                                   {"name": name, **det})
                return self.send_obj(200, output_obj(obj, kind, api_version))
        raise ApiError(405, "MethodNotAllowed", '%s is not supported on resources of kind "%s.%s"'
                       % (self.command.lower(), resource, RBAC_GROUP), {"group": RBAC_GROUP, "kind": resource})

    def pod(self, namespace, name, eviction, q, body, user):
        """Pods, read-only (they come from POST /_double/pods), and their eviction subresource
        (pkg/registry/core/pod/storage/eviction.go EvictionREST.Create)."""
        ns = namespace or ""
        if eviction:
            if self.command != "POST":
                raise ApiError(405, "MethodNotAllowed", '%s is not supported on resources of kind "pods/eviction"'
                               % self.command.lower(), {"kind": "pods/eviction"})
            check(user, "create", "", "pods", "eviction", name, ns)
            # AcceptsGroupVersion: policy/v1 and policy/v1beta1
            ev = self.json_body(body, ("Eviction",), ("policy/v1", "policy/v1beta1"))
            md = ev.get("metadata") or {}
            if md.get("namespace") not in (None, "", ns):
                raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
            if md.get("name") != name:
                raise bad_request("name in URL does not match name in Eviction object")
            with STATE.lock:
                key = "%s/%s" % (ns, name)
                pod = STATE.pods.get(key)
                if pod is None:
                    raise ApiError(404, "NotFound", 'pods "%s" not found' % name, details(name, "pods"))
                budget = STATE.pod_budgets.get(key)
                terminal = (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed", "Pending") or \
                    pod["metadata"].get("deletionTimestamp")
                if budget and budget[1] > 0 and not terminal:
                    # canIgnorePDB is false; checkAndDecrement with DisruptionsAllowed 0:
                    # errors.NewTooManyRequests(..., 0) plus a DisruptionBudget cause
                    budget[1] -= 1
                    raise ApiError(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's "
                                   "disruption budget.", {"causes": [{
                                       "reason": "DisruptionBudget",
                                       "message": "The disruption budget %s needs 1 healthy pods and has 1 currently"
                                       % budget[0]}]})
                STATE.pods.pop(key)
                STATE.pod_budgets.pop(key, None)
                STATE.next_rv()
            # Allowed: the pod is deleted (at once: no kubelet, no grace period) and Create returns
            # Status Success, which the create handler answers with code 201.
            return self.send_obj(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                       "code": 201})
        if self.command != "GET":
            raise ApiError(405, "MethodNotAllowed", '%s is not supported on resources of kind "pods"'
                           % self.command.lower(), {"kind": "pods"})
        if name is not None:
            check(user, "get", "", "pods", "", name, ns)
            with STATE.lock:
                pod = STATE.pods.get("%s/%s" % (ns, name))
                if pod is None:
                    raise ApiError(404, "NotFound", 'pods "%s" not found' % name, details(name, "pods"))
                return self.send_obj(200, output_obj(pod, "Pod", "v1"))
        lsel = parse_label_selector(q.get("labelSelector", [""])[0])
        fsel = parse_field_selector(q.get("fieldSelector", [""])[0], POD_FIELDS)
        check(user, "list", "", "pods", "", next((v for f, op, v in fsel if f == "metadata.name" and op == "="), ""), ns)
        with STATE.lock:
            items = [output_obj(p, "Pod", "v1", True) for k, p in sorted(STATE.pods.items())
                     if (not ns or k.split("/", 1)[0] == ns)
                     and labels_match(lsel, p["metadata"].get("labels") or {})
                     and all((pod_field(p, f) == v) == (op == "=") for f, op, v in fsel)]
            rv = str(STATE.rv)
        self.send_obj(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
                            "items": items})

    # -- test control
    def control(self, path):
        try:
            self.control_(path)
        except (OSError, ssl.SSLError):
            self.close_connection = True
        except Exception as e:  # bad input to a control endpoint
            self.close_connection = True
            self.send_obj(400, {"error": repr(e)})

    def save_state(self):
        try:
            with STATE.lock:
                STATE.save()
        except OSError as e:
            sys.stderr.write("k3s-double: --state %s: %s\n" % (OPTS.state, e))

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
        if path == "/_double/log":
            # what was answered is in the log (at most 5 s for a slow handler thread)
            for _ in range(100):
                with STATE.lock:
                    if STATE.unrecorded <= 0:
                        break
                time.sleep(0.05)
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
                STATE.link_owner(m.group(1))
                return self.send_obj(200, output_node(node))
        m = re.fullmatch(r"/_double/nodes/([^/]+)", path)
        if m and self.command == "DELETE":
            with STATE.lock:
                gone = STATE.delete_node(m.group(1))  # with garbage collection, as an admin's DELETE
            return self.send_obj(200 if gone else 404, {"deleted": bool(gone)})
        if path == "/_double/pods" and self.command == "POST":
            try:
                return self.send_obj(201, pod_from_spec(req))
            except ApiError as e:
                return self.send_obj(e.code, e.status())
        if path == "/_double/pods" and self.command == "GET":
            with STATE.lock:
                return self.send_obj(200, {k: output_obj(v, "Pod", "v1") for k, v in sorted(STATE.pods.items())})
        if path == "/_double/k3s-tokens" and self.command in ("POST", "PUT"):
            # K3s genUsers (pkg/daemons/control/deps/deps.go): user "server" has the server
            # token's password, user "node" the agent token, or the server's when there is none
            # (getNodePass). A K10 token or "user:password" is reduced to its password.
            users = {}
            for key, user in (("server", "server"), ("agent", "node")):
                v = req.get(key)
                if v is None:
                    continue
                if not isinstance(v, str) or not v:
                    return self.send_obj(400, {"error": "%s must be a non-empty string" % key})
                users[user] = v.split("::", 1)[1].partition(":")[2] if "::" in v else v
            if not users:
                return self.send_obj(400, {"error": "give server and/or agent"})
            if "server" in users and "node" not in users:
                users["node"] = users["server"]
            with STATE.lock:
                STATE.k3s_users.update(users)
                STATE.next_rv()
                return self.send_obj(200, {"users": sorted(STATE.k3s_users)})
        if path == "/_double/secrets" and self.command == "GET":
            with STATE.lock:
                return self.send_obj(200, {n: output_secret(v) for n, v in sorted(STATE.secrets.items())})
        if path == "/_double/orphan-sweep" and self.command == "POST":
            with STATE.lock:
                STATE.sweep_orphans()
                return self.send_obj(200, sorted(STATE.secrets))
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
        STATE.link_owner(name)
        return output_node(node)


def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=30)


def issue_kubelet_cert(kind, name, ips, csr_der):
    """handlers.go signAndSend with the certutil.Config of ClientKubeletCert (CN system:node:<name>,
    O system:nodes, client auth, client CA) or ServingKubeletCert (CN <name>, server auth, SANs
    DNS <name> and localhost, IP 127.0.0.1 and K3s-Node-IP, server CA). With a DER certificate
    request (getCSR uses x509.ParseCertificateRequest) the answer is leaf + CA bundle; without one
    (or one that does not parse) it is leaf + CA bundle + the server-made key, as for legacy
    clients. The double makes one key per node and kind for the legacy form and keeps it (with
    its certificate) in the PKI directory; mk-k3s-pki.sh's client-kubelet-<node> files are used
    as they are."""
    pki = OPTS.pki
    if kind == "client":
        ca, subj, eku, san = "client-ca", "/O=system:nodes/CN=system:node:%s" % name, "clientAuth", None
    else:
        ca, subj, eku = "server-ca", "/CN=%s" % name, "serverAuth"
        san = ",".join(["DNS:%s" % name, "DNS:localhost"] + ["IP:%s" % ip for ip in ips])
    ca_crt, ca_key = os.path.join(pki, ca + ".crt"), os.path.join(pki, ca + ".key")
    with open(ca_crt, "rb") as f:
        bundle = f.read()
    tmp = tempfile.mkdtemp(prefix="k3s-double-", dir=pki)
    try:
        ext = os.path.join(tmp, "ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=%s\n" % eku + ("subjectAltName=%s\n" % san if san else ""))
        leaf = os.path.join(tmp, "leaf")
        sign = ["-CA", ca_crt, "-CAkey", ca_key, "-set_serial", "0x%s" % uuid.uuid4().hex[:16],
                "-days", "365", "-sha256", "-extfile", ext, "-out", leaf]
        if csr_der:
            req = os.path.join(tmp, "csr.der")
            with open(req, "wb") as f:
                f.write(csr_der)
            try:
                _openssl("x509", "-req", "-inform", "DER", "-in", req, "-subj", subj, *sign)
                with open(leaf, "rb") as f:
                    return f.read() + bundle
            except subprocess.CalledProcessError:
                pass  # not a certificate request: the legacy answer below
        crt = os.path.join(pki, "%s-kubelet-%s.crt" % (kind, name))
        key = os.path.join(pki, "%s-kubelet-%s.key" % (kind, name))
        with STATE.lock:
            if not os.path.exists(crt) or not os.path.exists(key):
                _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
                csr = os.path.join(tmp, "csr.pem")
                _openssl("req", "-new", "-key", key, "-subj", subj, "-out", csr)
                _openssl("x509", "-req", "-in", csr, *sign)
                with open(leaf, "rb") as f, open(crt + ".tmp", "wb") as out:
                    out.write(f.read() + bundle)
                os.replace(crt + ".tmp", crt)
            with open(crt, "rb") as f, open(key, "rb") as k:
                return f.read() + k.read()
    finally:
        for fn in os.listdir(tmp):
            os.unlink(os.path.join(tmp, fn))
        os.rmdir(tmp)


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


def orphan_sweeper():
    """K3s controller.go Register runs the orphan sweep every minute; the double sweeps every
    min(60 s, --orphan-seconds / 4) (at least 0.1 s) so that short test ages act promptly.
    Bounded: stops after a week of sweeps (the double is killed long before)."""
    period = max(0.1, min(float(ORPHAN_SYNC_PERIOD), OPTS.orphan_seconds / 4))
    for _ in range(int(7 * 24 * 3600 / period)):
        time.sleep(period)
        with STATE.lock:
            STATE.sweep_orphans()
            try:
                STATE.save()
            except OSError as e:
                sys.stderr.write("k3s-double: --state %s: %s\n" % (OPTS.state, e))


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
    ap.add_argument("--state", help="keep nodes, secrets and the resourceVersion counter in this file: "
                    "loaded at start if it exists, rewritten (atomically) after every change")
    ap.add_argument("--orphan-seconds", type=float, default=MIN_ORPHAN_SECRET_AGE,
                    help="age after which a node-password secret without a Node is deleted "
                    "(K3s MinOrphanSecretAge, 600)")
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
        token_password = f.read().strip().split("::", 1)[-1].partition(":")[2]
    # the PKI's token is the server token and, without an agent token, the node one (genUsers)
    STATE.k3s_users = {"server": token_password, "node": token_password}
    srv.client_ca_cn = client_ca_cn
    srv.tokens = load_tokens(os.path.join(pki, "tokens.csv"))

    if OPTS.state and os.path.exists(OPTS.state):
        try:
            STATE.load(OPTS.state)
        except (OSError, ValueError, TypeError, KeyError) as e:
            sys.exit("k3s-double: --state %s: %s" % (OPTS.state, e))
    if OPTS.nodes_file:
        try:
            with open(OPTS.nodes_file) as f:
                for spec in json.load(f):
                    name = spec.get("name") or (spec.get("metadata") or {}).get("name")
                    if name in STATE.nodes:
                        continue  # already in the --state cluster: the saved node wins
                    node_from_spec(spec)
        except (OSError, ValueError, TypeError, AttributeError, ApiError) as e:
            sys.exit("k3s-double: --nodes-file %s: %s" % (OPTS.nodes_file, e))
    with STATE.lock:
        STATE.save()
    threading.Thread(target=orphan_sweeper, daemon=True).start()

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
