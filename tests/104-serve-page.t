#!/bin/sh
# The machines page of node-agent serve (node-agent/serve/page/, serve/page.c): the page and
# its assets over HTTP (types, Content-Security-Policy and the other headers, ETag, nothing
# from another origin), then the page in headless Chromium (tests/tools/cdp.py drives it over
# --remote-debugging-pipe: real clicks and typing) against a serve on 127.0.0.1 that three
# machines reported to with `node-agent report-send`: each machine's code, model, memory and
# state; sorting by a column; a new report shown without a reload; a machine's hardware
# changes and timeline; accept only with an operator's token (checked through the API).
# Screenshots are kept in build/test-artifacts/: serve-page.png (1280x800), serve-page-machine.png
# (a machine's view, 1280x800) and serve-page-phone.png (390x844). The whole test runs in a network namespace of its own
# when it can have one: loopback only.
if [ -z "${NA_PAGE_NETNS:-}" ] && unshare -n true 2>/dev/null; then
	NA_PAGE_NETNS=1 exec unshare -n sh "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ -n "${NA_PAGE_NETNS:-}" ] && ip link set lo up

d=$(mktemp -d "${TMPDIR:-/tmp}/na-serve-page.XXXXXX")
cleanup_dirs="$cleanup_dirs $d"
pid=""
stop_serve() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	pid=""
}
trap 'stop_serve; cleanup' EXIT

mkdir -p "$d/img" "$d/state"
: >"$d/img/vmlinuz"
: >"$d/img/initrd"
printf 'schema: node-agent/config/v1\n' >"$d/node.yaml"
hash=$(printf 'operator-secret-1' | sha256sum | cut -d' ' -f1)
cat >"$d/serve.yaml" <<EOF
schema: node-agent/serve/v1
address: 127.0.0.1
state_dir: $d/state
image: {dir: $d/img}
node_config: $d/node.yaml
http: {listen: 127.0.0.1, port: 0}
https: {port: 0}
unknown_machines: inventory
operators:
  - name: alice
    token_sha256: $hash
EOF
"$NODE_AGENT" serve --config "$d/serve.yaml" 2>>"$d/log" &
pid=$!
url=""
for _ in $(seq 100); do
	url=$(sed -n 's|.*listening on http://[0-9.:]* and \(https://[0-9.:]*\) .*|\1|p' "$d/log" | tail -n 1)
	[ -n "$url" ] && break
	sleep 0.1
done
[ -n "$url" ]
ok $? "serve starts on 127.0.0.1 (the page over HTTPS: plain HTTP is the boot stage only)"
ca=$d/state/tls-cert.pem
[ -n "$url" ] || { diag "$(cat "$d/log")"; done_testing; exit 1; }

# report INVENTORY NAME: node-agent's own report of a machine, delivered to serve
report() {
	NODE_AGENT_REPORT_DELAY_MS=0 "$NODE_AGENT" report-send --url "$url/reports" \
		--ca-file "$ca" --state-dir "$d/node-$2" --inventory "$1" >>"$d/send.log" 2>&1
}
report "$FIXTURES/qemu-q35.expected.json" qemu &&
	report "$TESTS_DIR/plans/inventories/health/thinkpad-worn.json" thinkpad &&
	report "$TESTS_DIR/plans/inventories/macmini-2014.json" macmini
ok $? "three machines report with node-agent report-send"
is "$(curl --cacert "$ca" -sf "$url/api/machines" | jq '.machines | length')" 3 "... three machines in the API"

# --- the page and its assets over HTTP ---
csp="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
for a in /:text/html /app.js:text/javascript /app.css:text/css /machines/1:text/html \
	/machines/ZZZZZZ:text/html; do
	path=${a%%:*}
	type=${a#*:}
	h=$(curl --cacert "$ca" -s -D - -o "$d/asset" "$url$path" | tr -d '\r')
	like "$h" "^HTTP/1.1 200" "GET $path: 200"
	like "$h" "Content-Type: $type; charset=utf-8" "... $type; charset=utf-8"
	printf '%s\n' "$h" | grep -qxF "Content-Security-Policy: $csp"
	ok $? "... a strict Content-Security-Policy (this origin's script, style and API only)"
	like "$h" "X-Content-Type-Options: nosniff" "... nosniff"
	like "$h" "Cache-Control: no-cache" "... no-cache (revalidated: ETag)"
	like "$h" "Referrer-Policy: no-referrer" "... no referrer"
done
cmp -s "$d/asset" "$TESTS_DIR/../node-agent/serve/page/index.html"
ok $? "/machines/ID is the page itself, byte for byte page/index.html"
etag=$(curl --cacert "$ca" -s -D - -o /dev/null "$url/app.js" | tr -d '\r' | sed -n 's/^ETag: //p')
like "$etag" '^"[0-9a-f]{16}"$' "app.js has an ETag"
code=$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}/%{size_download}' -H "If-None-Match: $etag" "$url/app.js")
is "$code" 304/0 "... and is not sent again while it is the same (304)"
h=$(curl --cacert "$ca" -sI "$url/" | tr -d '\r')
like "$h" "Content-Length: $(wc -c <"$TESTS_DIR/../node-agent/serve/page/index.html")" \
	"HEAD / gives the length"
for p in /machines/1/x /machines/ /app.js.map /index.htm; do
	is "$(curl --cacert "$ca" -s -o /dev/null -w '%{http_code}' "$url$p")" 404 "GET $p: 404"
done
# served as the binary carries them: nothing from another origin, no inline script or style
curl --cacert "$ca" -sf "$url/" "$url/app.js" "$url/app.css" >"$d/all-assets"
! grep -Eq 'https?:|//[a-z0-9.-]+\.[a-z]|@import|url\(' "$d/all-assets"
ok $? "no URL of another origin in any asset (no http:, no //host, no @import, no url())"
! grep -Eq '<script>|<script [^>]*>[^<]|<style|style=| on[a-z]+=' "$d/all-assets"
ok $? "no inline script, style or event handler (the CSP would refuse them)"
is "$(grep -Eo '(src|href)="[^"]*"' "$d/all-assets" | sort -u | tr '\n' ' ')" \
	'href="/" href="/api/machines" href="/app.css" src="/app.js" ' \
	"the page's only references are this server's paths"
is "$(grep -Eo 'fetch\([^)]' "$d/all-assets" | wc -l)" 1 "app.js calls fetch() in one place (its api() helper)"
grep -qF "fetch(path, { method, headers, cache: 'no-store', credentials: 'omit' })" "$d/all-assets"
ok $? "... without cookies (credentials: 'omit')"
! grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function|XMLHttpRequest|WebSocket|localStorage|document\.cookie' \
	"$d/all-assets"
ok $? "app.js writes no markup from strings, evaluates no code, keeps nothing beyond the tab"

# --- in headless Chromium ---
chromium=$(command -v chromium || command -v chromium-browser)
if [ -z "$chromium" ]; then
	skip "the page in Chromium" "chromium is not installed"
	done_testing
	exit
fi
# what happens while the page is open: a new machine, and a later report of the first one
# without its first disk (a hardware change)
jq '.disks = .disks[1:]' "$FIXTURES/qemu-q35.expected.json" >"$d/qemu-later.json"
cat >"$d/new-reports.sh" <<EOF
NODE_AGENT_REPORT_DELAY_MS=0 "$NODE_AGENT" report-send --url "$url/reports" --ca-file "$ca" --state-dir "$d/node-fc" \
	--inventory "$FIXTURES/vm-firecracker.expected.json" >>"$d/send.log" 2>&1 &&
NODE_AGENT_REPORT_DELAY_MS=0 "$NODE_AGENT" report-send --url "$url/reports" --ca-file "$ca" --state-dir "$d/node-qemu" \
	--inventory "$d/qemu-later.json" >>"$d/send.log" 2>&1
EOF
jq '.memory.physical_bytes = 17179869184' "$TESTS_DIR/plans/inventories/macmini-2014.json" \
	>"$d/macmini-more.json"
cat >"$d/more-memory.sh" <<EOF
NODE_AGENT_REPORT_DELAY_MS=0 "$NODE_AGENT" report-send --url "$url/reports" --ca-file "$ca" --state-dir "$d/node-macmini" \
	--inventory "$d/macmini-more.json" >>"$d/send.log" 2>&1
EOF
mkdir -p build/test-artifacts
rm -f build/test-artifacts/serve-page.png build/test-artifacts/serve-page-phone.png \
	build/test-artifacts/serve-page-machine.png
# what the API says before the page is opened
for id in 1 2 3; do
	curl --cacert "$ca" -sf "$url/api/machines/$id" >"$d/m$id.json"
done
start=$(date +%s)
SERVE_SPKI=$(openssl x509 -in "$ca" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
export SERVE_SPKI
HOME=$d/home timeout 240 python3 - "$chromium" "$url" "$d" "$PWD/build/test-artifacts" "$TESTS_DIR/tools" \
	>"$d/page.json" 2>"$d/page.err" <<'EOF'
import json, os, ssl, subprocess, sys, urllib.request
chromium, url, d, art, tools = sys.argv[1:6]
sys.path.insert(0, tools)
from cdp import Browser

ROWS = """Array.from(document.querySelectorAll('#machines tbody tr')).map(tr => {
    const c = k => tr.querySelector(`td[data-key="${k}"]`).textContent;
    return {id: Number(tr.dataset.id), code: tr.querySelector('a.code').textContent,
            host: (tr.querySelector('td[data-key="code"] .sub') || {}).textContent, state: c('state'), model: c('model'),
            memory: c('memory'), health: c('health'), disks: c('disks'), cpu: c('cpu')};
})"""
LOADED = """(() => { const r = document.querySelectorAll('#machines tbody tr');
    return r.length == %d && Array.from(r).every(tr =>
        tr.querySelector('td[data-key="memory"]').textContent != '–'); })()"""
res = {}
# serve's own certificate, trusted by its public key's hash (as a pinned key, not "ignore
# certificate errors" for everything)
spki = ["--ignore-certificate-errors-spki-list=" + os.environ["SERVE_SPKI"]]
with open(d + "/chromium.log", "w") as log, Browser(chromium, d + "/profile", log,
                                                     extra_args=spki) as b:
    b.open(url + "/", 1280, 800)
    b.call("Log.enable")
    b.wait(LOADED % 3, 20)
    res["rows"] = b.eval(ROWS)
    res["title"] = b.eval("document.title")
    b.eval("window.__marker = 'the same page'")
    b.click('th[data-key="memory"] button')
    res["sort_memory"] = b.eval(ROWS)
    res["aria_memory"] = b.eval("document.querySelector('th[data-key=memory]').getAttribute('aria-sort')")
    b.click('th[data-key="memory"] button')
    res["sort_memory_desc"] = b.eval(ROWS)
    res["hash"] = b.eval("location.hash")
    open(art + "/serve-page.png", "wb").write(b.screenshot())

    # no token: the buttons are off, a click does nothing, the API says 401
    res["no_token_disabled"] = b.eval(
        "Array.from(document.querySelectorAll('button[data-action]')).map(x => x.disabled)")
    qemu = [r for r in res["rows"] if "ThinkCentre" in r["model"]][0]
    sel = 'tr[data-id="%d"] button[data-action="accept"]' % qemu["id"]
    b.click(sel)
    b.eval("new Promise(r => setTimeout(r, 1500))")
    res["no_token_state"] = b.eval("document.querySelector('tr[data-id=\"%d\"] td[data-key=state]').textContent" % qemu["id"])
    res["no_token_fetch"] = b.eval(
        "fetch('/api/machines/%d/accept', {method: 'POST'}).then(r => r.status)" % qemu["id"])

    # a wrong token: refused (401), said so, forgotten
    b.type("#token", "not-the-token")
    b.click("#token-use")
    b.wait("!document.querySelector('%s').disabled" % sel.replace("'", "\\'"))
    res["wrong_token_enabled"] = True
    b.click(sel)
    b.wait("!document.getElementById('error').hidden", 10)
    res["wrong_token_error"] = b.eval("document.getElementById('error-list').textContent")
    res["wrong_token_disabled_after"] = b.eval("document.querySelector('%s').disabled" % sel.replace("'", "\\'"))
    res["wrong_token_state"] = b.eval("document.querySelector('tr[data-id=\"%d\"] td[data-key=state]').textContent" % qemu["id"])

    # the operator's token: accept from the page
    b.type("#token", "operator-secret-1")
    b.click("#token-use")
    res["token_state"] = b.eval("document.getElementById('token-state').textContent")
    res["token_input_cleared"] = b.eval("document.getElementById('token').value === ''")
    b.wait("!document.querySelector('%s').disabled" % sel.replace("'", "\\'"))
    b.click(sel)
    b.wait("document.querySelector('tr[data-id=\"%d\"] td[data-key=state]').textContent == 'accepted'" % qemu["id"], 10)
    res["accepted_id"] = qemu["id"]
    res["accepted_code"] = qemu["code"]
    res["errors_after_accept"] = b.eval("document.getElementById('error').hidden")
    tls = ssl.create_default_context(cafile=d + "/state/tls-cert.pem")
    with urllib.request.urlopen(url + "/api/machines", timeout=10, context=tls) as r:
        res["api_after_accept"] = json.load(r)["machines"]

    # new reports while the page is open: shown by the next poll, no reload
    subprocess.run(["sh", d + "/new-reports.sh"], check=True, timeout=60)
    b.wait(LOADED % 4, 20)
    res["rows_after"] = b.eval(ROWS)
    res["marker"] = b.eval("window.__marker || null")
    res["sort_kept"] = b.eval("document.querySelector('th[data-key=memory]').getAttribute('aria-sort')")

    # filter by state
    b.eval("(() => { const s = document.getElementById('filter'); s.value = 'accepted';"
           " s.dispatchEvent(new Event('change')); })()")
    res["filter_accepted"] = b.eval(ROWS)
    b.eval("(() => { const s = document.getElementById('filter'); s.value = '';"
           " s.dispatchEvent(new Event('change')); })()")

    # a machine's own view: its hardware changes and timeline
    b.click('tr[data-id="%d"] a.code' % qemu["id"])
    b.wait("document.querySelector('#detail-changes [data-kind]') !== null", 15)
    res["detail_path"] = b.eval("location.pathname")
    res["detail"] = b.eval("""({h: document.getElementById('detail-h').textContent,
        facts: document.getElementById('detail-facts').textContent,
        hardware: document.getElementById('detail-hardware').textContent,
        changes: Array.from(document.querySelectorAll('#detail-changes [data-kind]')).map(x => x.dataset.kind + ': ' + x.textContent),
        events: Array.from(document.querySelectorAll('#detail-events tbody tr td:nth-child(2)')).map(x => x.textContent),
        reports: document.querySelectorAll('#detail-reports li').length})""")
    open(art + "/serve-page-machine.png", "wb").write(b.screenshot())
    # straight to /machines/ID: the server's page opens that view
    b.navigate(url + "/machines/%s" % res["rows"][0]["code"])
    b.wait("document.getElementById('detail-h').textContent.startsWith('Machine ')", 15)
    b.wait("document.querySelector('#detail-health li') !== null", 15)
    res["direct"] = b.eval("""({h: document.getElementById('detail-h').textContent,
        list_hidden: document.getElementById('list').hidden,
        health: Array.from(document.querySelectorAll('#detail-health li')).map(x => x.textContent)})""")
    res["token_kept"] = b.eval("!document.querySelector('#detail-actions button').disabled")
    res["direct_id"] = b.eval("Number(document.querySelector('#detail-actions button').dataset.id)")
    # retire it from its own view
    b.click('#detail-actions button[data-action="retire"]')
    b.wait("document.querySelector('#detail-facts .state').textContent == 'retired'", 10)
    res["retired_shown"] = True

    # a phone: cards, still every value
    b.resize(390, 844, True)
    b.navigate(url + "/")
    b.wait(LOADED % 4, 20)
    res["phone_display"] = b.eval("getComputedStyle(document.querySelector('#machines td')).display")
    res["phone_overflow"] = b.eval("document.documentElement.scrollWidth <= window.innerWidth")
    open(art + "/serve-page-phone.png", "wb").write(b.screenshot())
    # scrolled down, a report arrives: the page updates, the scroll position stays
    b.eval("window.scrollTo(0, 700)")
    res["scroll_before"] = b.eval("window.scrollY")
    subprocess.run(["sh", d + "/more-memory.sh"], check=True, timeout=60)
    b.wait("Array.from(document.querySelectorAll('#machines tbody tr')).some(tr =>"
           " tr.querySelector('td[data-key=model]').textContent.includes('Macmini') &&"
           " tr.querySelector('td[data-key=memory]').textContent == '16.0 GiB')", 20)
    res["scroll_after"] = b.eval("window.scrollY")

    # the server out of reach (the browser offline): said so, the rows stay; back: gone
    b.call("Network.enable")
    b.call("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                "downloadThroughput": -1, "uploadThroughput": -1})
    b.wait("!document.getElementById('error').hidden", 15)
    res["offline_error"] = b.eval("document.getElementById('error-list').textContent")
    res["offline_rows"] = b.eval("document.querySelectorAll('#machines tbody tr').length")
    b.call("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                "downloadThroughput": -1, "uploadThroughput": -1})
    b.wait("document.getElementById('error').hidden", 15)
    res["online_again"] = True
    res["csp_violations"] = [e["params"]["entry"]["text"] for e in b.events
                             if e.get("method") == "Log.entryAdded"
                             and "Content Security Policy" in e["params"]["entry"].get("text", "")]
print(json.dumps(res, indent=1))
EOF
rc=$?
ok $rc "Chromium: the scenario ran to its end"
[ $rc -eq 0 ] || sed 's/^/# /' "$d/page.err" | tail -20
diag "the Chromium scenario took $(($(date +%s) - start))s${NA_PAGE_NETNS:+ (in a network namespace of its own)}"
j() { jq -r "$1" "$d/page.json" 2>/dev/null; }

# every machine with its code, model, memory, state, as the API had them at first
expect=$(for id in 1 2 3; do
	jq -r '[.code, "discovered", .summary.system.model, .summary.memory] | join(" | ")' "$d/m$id.json"
done | sort)
is "$(j '.rows[] | [.code, .state, .model, .memory] | join(" | ")' | sort)" "$expect" \
	"Chromium: each machine's code, state, model and memory, as the API has them"
is "$(j '.rows[] | .model' | sort | tr '\n' ,)" \
	"Apple Inc. Macmini7,1,LENOVO ThinkCentre M720q,LENOVO ThinkPad T480 (20L5CTO1WW)," \
	"... the models from DMI vendor/product (as node-agent report names them)"
is "$(j '.rows[] | select(.model | test("ThinkPad")) | .health')" 'failing (3)' \
	"... the worn ThinkPad's health: failing, three problems"
is "$(j '.rows[] | select(.model | test("ThinkCentre")) | .disks')" \
	"64.0 MiB NVMe SSD128.0 MiB NVMe SSD96.0 MiB HDD" "... its disks"
is "$(j '[.rows[].host] | sort | join(",")')" "localhost,qemu-node1,thinkpad-worn" \
	"... and host names"
is "$(j '[.sort_memory[].memory] | join(",")')" "1.0 GiB,8.0 GiB,16.0 GiB" \
	"Chromium: clicking Memory sorts by memory"
is "$(j .aria_memory)" ascending "... the header says ascending (aria-sort)"
is "$(j '[.sort_memory_desc[].memory] | join(",")')" "16.0 GiB,8.0 GiB,1.0 GiB" \
	"... a second click: descending"
is "$(j .hash)" "#sort=-memory" "... kept in the URL"
is "$(j '.no_token_disabled | map(tostring) | join(",")')" "true,true,true,true,true,true" \
	"Chromium: without a token every accept and retire button is disabled"
is "$(j .no_token_state)" discovered "... clicking one changes nothing"
is "$(j .no_token_fetch)" 401 "... and the API refuses the page's request without a token (401)"
like "$(j .wrong_token_error)" "Accept [A-Z0-9]{6}: the server refused the token \\(401 " \
	"Chromium: a wrong token: the error is shown (401)"
is "$(j .wrong_token_disabled_after)/$(j .wrong_token_state)" true/discovered \
	"... forgotten, the buttons off again, the machine still discovered"
is "$(j .token_input_cleared)" true "the token field is emptied once the token is taken"
acc=$(j .accepted_id)
is "$(curl --cacert "$ca" -sf "$url/api/machines/$acc" | jq -r '[.state, .accepted_by] | join(" ")')" \
	"accepted operator:alice" "Chromium: with the operator's token, Accept accepts (the API says so)"
is "$(j .errors_after_accept)" true "... without an error"
is "$(j '[.api_after_accept[] | select(.id != '"$acc"') | .state] | unique | join(",")')" \
	discovered "... and only that machine"
is "$(j '.rows_after | length')/$(j .marker)" "4/the same page" \
	"Chromium: a machine that reports while the page is open appears without a reload"
is "$(j '[.rows_after[] | select(.memory == "24.0 GiB") | .state] | join(",")')" discovered \
	"... the new one's row (Firecracker's 24 GiB, discovered)"
is "$(j '[.rows_after[].memory] | join(",")')" "24.0 GiB,16.0 GiB,8.0 GiB,1.0 GiB" \
	"... in the order chosen (memory, descending)"
is "$(j '[.filter_accepted[] | .state] | join(",")')" accepted "Chromium: filtering by state"
is "$(j .detail_path)" "/machines/$(j .accepted_code)" "Chromium: a machine's code opens /machines/CODE"
like "$(j '.detail.changes[]')" "^disk-removed: disk .* removed" \
	"... its hardware change between its two reports (a disk removed)"
like "$(j '.detail.events | join(",")')" "accepted.*report received|report received.*accepted" \
	"... its timeline (report received, accepted)"
is "$(j .detail.reports)" 2 "... its two reports"
like "$(j .detail.facts)" "PC1ABCDE" "... its serial"
like "$(j .detail.facts)" "Last bootreached report received: booted, reported" "... its last boot (the API's boot)"
like "$(j .detail.hardware)" "1.0 GiB" "... its hardware"
is "$(j .direct.list_hidden)" true "Chromium: /machines/CODE straight from the server shows that machine"
like "$(j '.direct.h')" "^Machine $(j '.rows[0].code')$" "... the right one"
is "$(j .token_kept)" true "... the token kept for the tab (sessionStorage) across the navigation"
is "$(j .retired_shown)/$(curl --cacert "$ca" -sf "$url/api/machines/$(j .direct_id)" | jq -r '.state')" \
	"true/retired" "Chromium: Retire in a machine's view retires it (the API says so)"
is "$(j .phone_display)/$(j .phone_overflow)" "grid/true" \
	"Chromium on a phone (390 px): one card per machine, no sideways scrolling"
is "$(j .scroll_before)/$(j .scroll_after)" 700/700 \
	"Chromium: scrolled down, a new report is shown and the scroll position stays"
like "$(j .offline_error)" "^Cannot refresh from this server: " \
	"Chromium: the server out of reach: the page says so"
is "$(j .offline_rows)/$(j .online_again)" 4/true "... keeps its rows, and the error goes once it answers again"
is "$(j '.csp_violations | length')" 0 "Chromium: nothing refused by the Content-Security-Policy"
for png in serve-page.png:1280x800 serve-page-machine.png:1280x800 serve-page-phone.png:390x844; do
	f=build/test-artifacts/${png%%:*}
	python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
assert d[:8] == b"\x89PNG\r\n\x1a\n" and d[12:16] == b"IHDR", "not a PNG"
w, h = struct.unpack(">II", d[16:24])
assert "%dx%d" % (w, h) == sys.argv[2], (w, h)
assert len(d) > 20000, len(d)
' "$f" "${png#*:}"
	ok $? "a ${png#*:} PNG screenshot in $f"
done
unlike "$(cat "$d/log")" "Sanitizer|runtime error" "nothing from the sanitizers in serve's log"
done_testing
