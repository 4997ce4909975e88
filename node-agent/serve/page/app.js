/*
 * node-agent serve: the machines page (index.html), no framework. The page's
 * Content-Security-Policy allows this file and the API of this origin only: no inline
 * script or style, nothing from elsewhere. Everything of a machine is put in the page as
 * text (textContent), never as markup. URLs are relative to this origin, so the page is
 * the same over HTTP and HTTPS.
 *
 * The list (GET /api/machines) is polled every few seconds; a machine's own document
 * (GET /api/machines/ID: its summary, last inventory, hardware changes, events) is fetched
 * again only when the list says it changed, or while it is the one shown. Rows are updated
 * in place, so the order, the scroll position and the focus stay.
 *
 * Accept and retire need an operator's bearer token (the one `node-agent machines` uses),
 * kept in this tab's sessionStorage and sent as "Authorization: Bearer" by fetch(). No
 * cookie is involved, so another site cannot act for the operator (no CSRF).
 */
'use strict';

(function () {
	const POLL_MS = 3000;
	const DETAIL_FETCHES = 4; /* at once */
	const TOKEN_KEY = 'node-agent-serve.token';
	const STATES = ['discovered', 'accepted', 'joined', 'retired'];
	const HEALTH_RANK = { ok: 1, note: 2, warning: 3, failing: 4 };

	const state = {
		machines: [],
		details: new Map(), /* id -> {stamp, doc} */
		sort: { key: 'code', desc: false },
		filter: '',
		view: null, /* the ID or code of the machine shown, null for the list */
		pending: new Set(), /* ids with an action under way */
		errors: new Map(), /* source -> message */
		loaded: false,
		updated: null,
		timer: 0,
		busy: false,
		again: false,
	};

	const $ = (id) => document.getElementById(id);

	function el(tag, props, children) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === undefined || v === null || v === false)
				continue;
			if (k === 'text')
				e.textContent = v;
			else if (k === 'class')
				e.className = v;
			else
				e.setAttribute(k, v === true ? '' : String(v));
		}
		for (const c of children || [])
			if (c !== null && c !== undefined)
				e.append(c);
		return e;
	}

	/* --- values --- */

	function summary(m) {
		const d = state.details.get(m.id);
		return (d && d.doc && d.doc.summary) || null;
	}

	function model(m, s) {
		if (s && s.system && s.system.model)
			return s.system.model;
		return [m.vendor, m.product].filter(Boolean).join(' ') || null;
	}

	function cpuText(s) {
		if (!s || !s.cpu)
			return null;
		const c = s.cpu;
		const n = c.cores !== null && c.threads !== null ? ` (${c.cores}C/${c.threads}T)` : '';
		/* "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz": the marks say nothing here */
		const name = (c.model || '').replace(/\((R|TM)\)/g, '').replace(/\s+/g, ' ').trim();
		return name || n ? (name || 'CPU') + n : null;
	}

	function nicText(n) {
		const speed = n.speed || (n.link === 'down' ? 'link down' : '');
		return [n.name || '?', n.wireless ? 'Wi-Fi' : '', speed].filter(Boolean).join(' ');
	}

	function gpuText(g) {
		return (g.model || 'GPU') + (g.memory ? ` (${g.memory})` : '');
	}

	function diskText(d) {
		return `${d.size || '?'} ${d.type}`;
	}

	function ago(iso) {
		const t = Date.parse(iso);
		if (!iso || isNaN(t))
			return null;
		const s = Math.max(0, Math.round((Date.now() - t) / 1000));
		if (s < 60)
			return `${s} s ago`;
		if (s < 3600)
			return `${Math.floor(s / 60)} min ago`;
		if (s < 86400)
			return `${Math.floor(s / 3600)} h ago`;
		return `${Math.floor(s / 86400)} d ago`;
	}

	function timeEl(iso) {
		if (!iso)
			return el('span', { class: 'none', text: '–' });
		return el('time', { datetime: iso, title: iso, text: ago(iso) || iso });
	}

	/* Each column: what it sorts by, and what its cell shows as plain data (compared with
	 * what the cell shows now, so unchanged cells are not touched). */
	const COLUMNS = [
		{ key: 'code', label: 'Code', sort: (m) => m.code,
		  cell: (m, s) => ({ link: m.code, sub: s && s.hostname, title: m.name || undefined }) },
		{ key: 'state', label: 'State', sort: (m) => STATES.indexOf(m.state),
		  cell: (m) => ({ badge: m.state,
				  title: m.accepted_by ? `by ${m.accepted_by}` : undefined }) },
		{ key: 'role', label: 'Role', sort: (m, s) => s && s.role,
		  cell: (m, s) => ({ text: s && s.role }) },
		{ key: 'model', label: 'Model', sort: (m, s) => model(m, s),
		  cell: (m, s) => ({ text: model(m, s) }) },
		{ key: 'cpu', label: 'CPU', sort: (m, s) => s && s.cpu && s.cpu.threads,
		  cell: (m, s) => ({ text: cpuText(s) }) },
		{ key: 'memory', label: 'Memory', sort: (m, s) => s && s.memory_bytes,
		  cell: (m, s) => ({ text: s && s.memory, cls: 'num' }) },
		{ key: 'disks', label: 'Disks', sort: (m, s) => s && s.storage_bytes,
		  cell: (m, s) => ({ list: s && s.disks.map(diskText) }) },
		{ key: 'gpus', label: 'GPUs', sort: (m, s) => s && s.gpus.length,
		  cell: (m, s) => ({ list: s && s.gpus.map(gpuText) }) },
		{ key: 'nics', label: 'NICs', sort: (m, s) => s && s.nics.length,
		  cell: (m, s) => ({ list: s && s.nics.map(nicText) }) },
		{ key: 'health', label: 'Health', sort: (m, s) => s && HEALTH_RANK[s.health],
		  cell: (m, s) => ({ text: s && s.health && (s.problems.length ?
				     `${s.health} (${s.problems.length})` : s.health), cls: s && s.health ? `health health-${s.health}` : '',
				     title: s && s.problems.length ? s.problems.join('\n') : undefined }) },
		/* where the last network boot got (the API's boot_reached), or where it stopped */
		{ key: 'boot', label: 'Boot', sort: (m) => m.boot_problem || '',
		  cell: (m) => ({ text: m.boot_problem ? `stopped: ${m.boot_problem}` : m.boot_reached,
				  cls: m.boot_problem ? 'health health-failing' : '' }) },
		{ key: 'last_report', label: 'Reported', sort: (m) => m.last_report_at,
		  cell: (m) => ({ time: m.last_report_at, ago: ago(m.last_report_at) }) },
	];

	function compare(a, b) {
		const col = COLUMNS.find((c) => c.key === state.sort.key) || COLUMNS[0];
		const va = col.sort(a, summary(a)), vb = col.sort(b, summary(b));
		const na = va === null || va === undefined || va === '';
		const nb = vb === null || vb === undefined || vb === '';
		let r = 0;
		/* unknown values last, whichever the direction */
		if (na || nb)
			return na && nb ? a.id - b.id : na ? 1 : -1;
		if (typeof va === 'number' && typeof vb === 'number')
			r = va - vb;
		else
			r = String(va).localeCompare(String(vb), undefined, { numeric: true });
		if (state.sort.desc)
			r = -r;
		return r || a.id - b.id;
	}

	/* --- the API --- */

	function token() {
		try {
			return sessionStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			return '';
		}
	}

	async function api(method, path, auth) {
		const headers = { Accept: 'application/json' };
		if (auth)
			headers.Authorization = `Bearer ${token()}`;
		const res = await fetch(path, { method, headers, cache: 'no-store', credentials: 'omit' });
		let body = null;
		try {
			body = await res.json();
		} catch (e) {
			body = null;
		}
		if (!res.ok) {
			const err = new Error(`${res.status} ${(body && body.error) || res.statusText}`);
			err.status = res.status;
			throw err;
		}
		return body;
	}

	function stamp(m) {
		return `${m.state}|${m.updated_at}|${m.last_report_at}`;
	}

	function viewed(m) {
		return state.view !== null &&
			(String(m.id) === state.view || m.code === state.view.toUpperCase());
	}

	async function loadDetail(ref) {
		const doc = await api('GET', `/api/machines/${encodeURIComponent(ref)}`);
		state.details.set(doc.id, { stamp: stamp(doc), doc });
		return doc;
	}

	/* FN over ITEMS, N at a time */
	async function pool(items, n, fn) {
		const queue = items.slice();
		const worker = async () => {
			while (queue.length)
				await fn(queue.shift());
		};
		await Promise.all(Array.from({ length: Math.min(n, queue.length) }, worker));
	}

	async function refresh() {
		if (state.busy) {
			state.again = true; /* asked for while one runs: once more right after it */
			return;
		}
		state.busy = true;
		state.again = false;
		clearTimeout(state.timer);
		try {
			const list = await api('GET', '/api/machines');
			state.machines = Array.isArray(list.machines) ? list.machines : [];
			const stale = state.machines.filter((m) => {
				const d = state.details.get(m.id);
				return !d || d.stamp !== stamp(m) || viewed(m);
			});
			await pool(stale, DETAIL_FETCHES, (m) => loadDetail(m.id));
			if (state.view !== null && !state.machines.some(viewed))
				await loadDetail(state.view).catch(() => null);
			state.loaded = true;
			state.updated = new Date();
			state.errors.delete('refresh');
		} catch (e) {
			state.errors.set('refresh', `Cannot refresh from this server: ${e.message}`);
		} finally {
			state.busy = false;
			render();
			if (state.again)
				refresh();
			else
				schedule();
		}
	}

	function schedule() {
		clearTimeout(state.timer);
		if (!document.hidden)
			state.timer = setTimeout(refresh, POLL_MS);
	}

	async function act(id, action) {
		const m = state.machines.find((x) => x.id === id);
		const what = `${action === 'accept' ? 'Accept' : 'Retire'} ${m ? m.code : id}`;

		state.errors.delete('action');
		if (!token()) {
			state.errors.set('action', `${what}: paste an operator token first`);
			render();
			return;
		}
		state.pending.add(id);
		render();
		try {
			const doc = await api('POST', `/api/machines/${id}/${action}`, true);
			state.details.set(doc.id, { stamp: stamp(doc), doc });
			state.machines = state.machines.map((x) => (x.id === doc.id ? Object.assign({}, x, {
				state: doc.state, accepted_by: doc.accepted_by, updated_at: doc.updated_at,
			}) : x));
			$('announce').textContent = `${doc.code} is ${doc.state} now`;
		} catch (e) {
			if (e.status === 401) {
				setToken('');
				state.errors.set('action', `${what}: the server refused the token (${e.message}); ` +
						 'it is forgotten, paste the right one');
			} else {
				state.errors.set('action', `${what}: ${e.message}`);
			}
		} finally {
			state.pending.delete(id);
			render();
		}
	}

	/* --- rendering --- */

	function actionButtons(m) {
		const has = Boolean(token()), busy = state.pending.has(m.id);
		const why = has ? undefined : 'Paste an operator token above first';
		const btn = (action, label, off) => el('button', {
			type: 'button', 'data-action': action, 'data-id': m.id,
			'aria-label': `${label} machine ${m.code}`, title: why,
			disabled: !has || busy || off,
		}, [label]);
		return [
			btn('accept', 'Accept', m.state === 'accepted' || m.state === 'joined'),
			btn('retire', 'Retire', m.state === 'retired'),
		];
	}

	function fillCell(td, spec) {
		td.replaceChildren();
		td.className = spec.cls || '';
		if (spec.title)
			td.title = spec.title;
		else
			td.removeAttribute('title');
		if (spec.link) {
			/* one element: on a phone the cell is a grid of its name and its value */
			td.append(el('div', {}, [
				el('a', { href: `/machines/${encodeURIComponent(spec.link)}`,
					  'data-view': spec.link, class: 'code', text: spec.link }),
				spec.sub ? el('div', { class: 'sub', text: spec.sub }) : null,
			]));
		} else if (spec.list) {
			if (!spec.list.length)
				td.append(el('span', { class: 'none', text: '–' }));
			else
				td.append(el('ul', {}, spec.list.map((t) => el('li', { text: t }))));
		} else if (spec.badge) {
			td.append(el('span', { class: `state state-${spec.badge}`, text: spec.badge }));
		} else if ('time' in spec) {
			td.append(timeEl(spec.time));
		} else if (spec.text !== null && spec.text !== undefined && spec.text !== '') {
			td.textContent = spec.text;
		} else {
			td.append(el('span', { class: 'none', text: '–' }));
		}
	}

	function rowFor(tbody, m) {
		let tr = tbody.querySelector(`tr[data-id="${m.id}"]`);
		if (!tr) {
			tr = el('tr', { 'data-id': m.id });
			for (const col of COLUMNS)
				tr.append(el('td', { 'data-key': col.key, 'data-label': col.label }));
			tr.append(el('td', { 'data-key': 'actions', 'data-label': 'Actions', class: 'actions' }));
		}
		tr.dataset.code = m.code;
		tr.dataset.state = m.state;
		const s = summary(m);
		COLUMNS.forEach((col, i) => {
			const spec = col.cell(m, s);
			const sig = JSON.stringify(spec);
			if (tr.cells[i].dataset.sig !== sig) {
				fillCell(tr.cells[i], spec);
				tr.cells[i].dataset.sig = sig;
			}
		});
		const act = tr.cells[COLUMNS.length];
		const sig = JSON.stringify([m.state, Boolean(token()), state.pending.has(m.id)]);
		if (act.dataset.sig !== sig) {
			act.replaceChildren(...actionButtons(m));
			act.dataset.sig = sig;
		}
		return tr;
	}

	function renderList() {
		const tbody = document.querySelector('#machines tbody');
		const shown = state.machines.filter((m) => !state.filter || m.state === state.filter);
		shown.sort(compare);
		const keep = new Set(shown.map((m) => String(m.id)));
		for (const tr of Array.from(tbody.rows))
			if (!keep.has(tr.dataset.id))
				tr.remove();
		/* moved only when out of place, so a focused button keeps its focus */
		shown.forEach((m, i) => {
			const tr = rowFor(tbody, m);
			if (tbody.rows[i] !== tr)
				tbody.insertBefore(tr, tbody.rows[i] || null);
		});
		for (const th of document.querySelectorAll('#machines th[data-key]')) {
			const on = th.dataset.key === state.sort.key;
			if (on)
				th.setAttribute('aria-sort', state.sort.desc ? 'descending' : 'ascending');
			else
				th.removeAttribute('aria-sort');
		}
		$('sort').value = `${state.sort.desc ? '-' : ''}${state.sort.key}`;
		$('filter').value = state.filter;
		$('empty').hidden = !state.loaded || shown.length > 0;
		$('empty').textContent = state.machines.length ?
			`No machine is ${state.filter}.` :
			'No machine here yet: machines appear with their first report.';
	}

	function fact(dl, name, value) {
		if (value === null || value === undefined || value === '' ||
		    (Array.isArray(value) && !value.length))
			return;
		const dd = el('dd');
		if (Array.isArray(value))
			dd.append(el('ul', {}, value.map((t) => el('li', { text: t }))));
		else if (value instanceof Node)
			dd.append(value);
		else
			dd.textContent = value;
		dl.append(el('dt', { text: name }), dd);
	}

	function renderDetail() {
		const m = state.machines.find(viewed);
		const d = m ? state.details.get(m.id) : Array.from(state.details.values()).find(
			(x) => String(x.doc.id) === state.view || x.doc.code === state.view.toUpperCase());
		const doc = d && d.doc;
		const facts = $('detail-facts'), hw = $('detail-hardware');
		const sig = JSON.stringify([doc, Boolean(token()), doc && state.pending.has(doc.id),
					    doc && ago(doc.last_report_at)]);
		if ($('detail').dataset.sig === sig)
			return;
		$('detail').dataset.sig = sig;
		for (const id of ['detail-facts', 'detail-hardware', 'detail-health', 'detail-changes',
				  'detail-reports', 'detail-actions'])
			$(id).replaceChildren();
		document.querySelector('#detail-events tbody').replaceChildren();
		if (!doc) {
			$('detail-h').textContent = state.loaded ? `No machine ${state.view}` : 'Loading…';
			return;
		}
		const s = doc.summary;
		$('detail-h').textContent = `Machine ${doc.code}`;
		document.title = `${doc.code} · node-agent serve`;
		$('detail-actions').append(...actionButtons(doc));
		fact(facts, 'State', el('span', { class: `state state-${doc.state}`, text: doc.state }));
		fact(facts, 'Accepted by', doc.accepted_by);
		fact(facts, 'Name', doc.name);
		fact(facts, 'Host', s && s.hostname);
		fact(facts, 'Role', s && s.role);
		fact(facts, 'Model', model(doc, s));
		fact(facts, 'Serial', doc.serial);
		fact(facts, 'UUID', doc.uuid);
		fact(facts, 'MACs', doc.macs);
		fact(facts, 'First seen', timeEl(doc.created_at));
		fact(facts, 'Last report', timeEl(doc.last_report_at));
		const b = doc.boot;
		fact(facts, 'Last boot', b && el('span', {
			class: b.stopped ? 'health health-failing' : '',
			title: b.diagnosis ? b.diagnosis.code : undefined,
			text: `reached ${b.reached_text}` + (b.diagnosis ? `${b.stopped ? '; stopped: ' : ': '}${b.diagnosis.text}` :
							     ', still booting'),
		}));
		if (s) {
			fact(hw, 'CPU', cpuText(s));
			fact(hw, 'Memory', s.memory);
			fact(hw, 'Disks', s.disks.map((x) => [diskText(x), x.name, x.model].filter(Boolean).join(' · ')));
			fact(hw, 'GPUs', s.gpus.map((x) => [gpuText(x), x.pci_address].filter(Boolean).join(' · ')));
			fact(hw, 'NICs', s.nics.map((x) => [nicText(x), x.mac].filter(Boolean).join(' · ')));
		} else {
			fact(hw, 'Inventory', 'none reported yet');
		}
		const health = $('detail-health');
		if (s && s.problems.length)
			for (const p of s.problems)
				health.append(el('li', { class: `health health-${p.split(':')[0]}`, text: p }));
		else
			health.append(el('li', { text: s && s.health === 'ok' ? 'ok: no problem found' :
						   'nothing known about its condition' }));
		const changes = $('detail-changes');
		for (const c of (doc.changes || []).slice().reverse()) {
			changes.append(el('li', {}, [
				el('p', {}, [timeEl(c.from), ' → ', timeEl(c.to)]),
				el('ul', {}, (c.changes || []).map((x) => el('li', {
					class: x.severity === 'warning' ? 'change warning' : 'change',
					'data-kind': x.kind, text: x.message,
				}))),
			]));
		}
		if (!changes.children.length)
			changes.append(el('li', { class: 'none', text: 'no change between its reports' }));
		const events = document.querySelector('#detail-events tbody');
		for (const e of (doc.events || []).slice().reverse())
			events.append(el('tr', {}, [el('td', {}, [timeEl(e.at)]), el('td', { text: e.kind }),
						   el('td', { text: e.detail || '' }), el('td', { text: e.mac || '' })]));
		const reports = $('detail-reports');
		for (const r of (doc.reports || []).slice().reverse())
			reports.append(el('li', {}, [timeEl(r.received_at), ` · key ${r.idempotency_key}`]));
	}

	function render() {
		const counts = STATES.map((st) => [st, state.machines.filter((m) => m.state === st).length])
			.filter(([, n]) => n).map(([st, n]) => `${n} ${st}`);
		$('status').textContent = !state.loaded ? 'Loading…' :
			`${state.machines.length} machine${state.machines.length === 1 ? '' : 's'}` +
			(counts.length ? `: ${counts.join(', ')}` : '') +
			` · updated ${state.updated.toLocaleTimeString()}`;
		const has = Boolean(token());
		$('token-state').textContent = has ?
			'Token set for this tab: accept and retire are on.' :
			'No token: accepting and retiring machines is off.';
		$('token-forget').hidden = !has;
		const list = $('error-list');
		list.replaceChildren(...Array.from(state.errors.values()).map((t) => el('li', { text: t })));
		$('error').hidden = state.errors.size === 0;
		$('list').hidden = state.view !== null;
		$('detail').hidden = state.view === null;
		if (state.view === null) {
			document.title = 'Machines · node-agent serve';
			renderList();
		} else {
			renderDetail();
		}
	}

	/* --- where we are: /machines/ID shows one machine; #sort=-memory&state=accepted --- */

	function readLocation() {
		const m = /^\/machines\/([^/]+)$/.exec(location.pathname);
		state.view = m ? decodeURIComponent(m[1]) : null;
		const h = new URLSearchParams(location.hash.slice(1));
		const sort = h.get('sort') || '';
		const key = sort.replace(/^-/, '');
		if (COLUMNS.some((c) => c.key === key))
			state.sort = { key, desc: sort.startsWith('-') };
		const f = h.get('state') || '';
		state.filter = STATES.includes(f) ? f : '';
	}

	function hash() {
		const h = new URLSearchParams();
		h.set('sort', `${state.sort.desc ? '-' : ''}${state.sort.key}`);
		if (state.filter)
			h.set('state', state.filter);
		return `#${h}`;
	}

	function go(path) {
		history.pushState(null, '', path + hash());
		readLocation();
		$('detail').dataset.sig = '';
		render();
		window.scrollTo(0, 0);
		if (state.view !== null)
			refresh();
	}

	function setToken(t) {
		try {
			if (t)
				sessionStorage.setItem(TOKEN_KEY, t);
			else
				sessionStorage.removeItem(TOKEN_KEY);
		} catch (e) {
			state.errors.set('token', 'This browser keeps no session storage: no token possible');
		}
	}

	function setSort(key, desc) {
		state.sort = { key, desc };
		history.replaceState(null, '', location.pathname + hash());
		render();
	}

	function init() {
		/* the column headers become buttons that sort */
		for (const th of document.querySelectorAll('#machines th[data-key]')) {
			const label = th.textContent;
			th.replaceChildren(el('button', { type: 'button', class: 'sort', text: label }));
			th.firstChild.addEventListener('click', () => {
				const key = th.dataset.key;
				setSort(key, state.sort.key === key ? !state.sort.desc : false);
			});
		}
		const sortSel = $('sort');
		for (const c of COLUMNS) {
			sortSel.append(el('option', { value: c.key, text: `${c.label} ↑` }));
			sortSel.append(el('option', { value: `-${c.key}`, text: `${c.label} ↓` }));
		}
		sortSel.addEventListener('change', () => {
			setSort(sortSel.value.replace(/^-/, ''), sortSel.value.startsWith('-'));
		});
		$('filter').addEventListener('change', () => {
			state.filter = $('filter').value;
			history.replaceState(null, '', location.pathname + hash());
			render();
		});
		$('token-form').addEventListener('submit', (ev) => {
			ev.preventDefault();
			const t = $('token').value.trim();
			$('token').value = '';
			state.errors.delete('action');
			if (!t)
				state.errors.set('action', 'The token is empty');
			else
				setToken(t);
			render();
		});
		$('token-forget').addEventListener('click', () => {
			setToken('');
			render();
		});
		$('error-dismiss').addEventListener('click', () => {
			state.errors.clear();
			render();
		});
		document.addEventListener('click', (ev) => {
			const b = ev.target.closest('button[data-action]');
			if (b && !b.disabled) {
				act(Number(b.dataset.id), b.dataset.action);
				return;
			}
			const a = ev.target.closest('a[data-view], a#back, a#home');
			if (a && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey && ev.button === 0) {
				ev.preventDefault();
				go(a.dataset.view ? `/machines/${encodeURIComponent(a.dataset.view)}` : '/');
			}
		});
		window.addEventListener('popstate', () => {
			readLocation();
			$('detail').dataset.sig = '';
			render();
		});
		document.addEventListener('visibilitychange', () => {
			if (!document.hidden)
				refresh();
			else
				clearTimeout(state.timer);
		});
		readLocation();
		render();
		refresh();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', init);
	else
		init();
})();
