// skiff dashboard: polls GET /v1/dashboard once a second and draws it.
// No framework, no build step: plain DOM and hand-written SVG charts.
(function () {
  'use strict';

  const POLL_MS = 1000;
  const TIMEOUT_MS = 5000;
  const WINDOW_MS = 10 * 60 * 1000; // the charts' longest time span
  const SVGNS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);

  // ---- formatting ----------------------------------------------------

  function fmtInt(n) {
    return Math.round(n).toLocaleString('en-US');
  }

  function fmtOps(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(n >= 1e7 ? 0 : 1) + 'M';
    if (n >= 1e4) return (n / 1e3).toFixed(n >= 1e5 ? 0 : 1) + 'k';
    if (n >= 100) return fmtInt(n);
    return n.toFixed(n === Math.round(n) ? 0 : 1);
  }

  function fmtMicros(us) {
    if (us <= 0) return '0';
    if (us < 1000) return (us < 10 ? us.toFixed(1) : Math.round(us)) + ' µs';
    if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + ' ms';
    return (us / 1e6).toFixed(2) + ' s';
  }

  // fmtMicrosAxis is fmtMicros without trailing zeros, for axis labels.
  function fmtMicrosAxis(us) {
    if (us <= 0) return '0';
    if (us < 1000) return +us.toFixed(1) + ' µs';
    if (us < 1e6) return +(us / 1000).toFixed(2) + ' ms';
    return +(us / 1e6).toFixed(2) + ' s';
  }

  function fmtBytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }

  function fmtUptime(sec) {
    const d = Math.floor(sec / 86400), h = Math.floor(sec / 3600) % 24;
    const m = Math.floor(sec / 60) % 60, s = sec % 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + s + 's';
    return s + 's';
  }

  function fmtClock(ms) {
    return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
  }

  // ---- DOM helpers ---------------------------------------------------

  function setText(id, text) {
    const el = $(id);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function h(tag, props, children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else el.setAttribute(k, v);
      }
    }
    for (const c of children || []) el.append(c);
    return el;
  }

  function svg(tag, attrs, text) {
    const el = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function replaceRows(tbody, rows) {
    tbody.replaceChildren(...rows);
  }

  function setStatus(state, text) {
    const el = $('status');
    el.dataset.state = state;
    if (el.textContent !== text) el.textContent = text;
  }

  // ---- charts ----------------------------------------------------------

  // niceCeil rounds v up to 1, 2 or 5 times a power of ten.
  function niceCeil(v) {
    if (!(v > 0)) return 0;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 5, 10]) {
      if (v <= m * p) return m * p;
    }
    return 10 * p;
  }

  // Tick steps for the time axis, in ms.
  const TICK_STEPS = [10e3, 15e3, 30e3, 60e3, 120e3, 300e3];

  function fmtAgo(ms) {
    if (ms === 0) return 'now';
    return ms % 60000 === 0 ? '-' + ms / 60000 + 'm' : '-' + ms / 1000 + 's';
  }

  // drawChart draws one series (times in unix ms, values) into an <svg>
  // sized by CSS: gridlines with labels, a time axis ending at the latest
  // sample and spanning the history held (1 to 10 minutes), a line broken
  // where samples are missing, and the latest value marked.
  function drawChart(el, times, values, opts) {
    const w = Math.max(el.clientWidth, 200), hgt = Math.max(el.clientHeight, 120);
    const m = { l: 62, r: 14, t: 12, b: 24 };
    const pw = w - m.l - m.r, ph = hgt - m.t - m.b;
    el.setAttribute('viewBox', '0 0 ' + w + ' ' + hgt);
    const nodes = [];

    const end = times.length ? times[times.length - 1] : Date.now();
    const held = times.length ? end - times[0] : 0;
    const span = Math.min(WINDOW_MS, Math.max(60e3, held));
    const start = end - span;
    let max = 0;
    for (let i = 0; i < times.length; i++) {
      if (times[i] >= start && values[i] > max) max = values[i];
    }
    const top = niceCeil(max) || opts.emptyTop;
    const x = (t) => m.l + ((t - start) / span) * pw;
    const y = (v) => m.t + (1 - v / top) * ph;

    for (let i = 0; i <= 4; i++) {
      const v = (top * i) / 4, yy = y(v);
      nodes.push(svg('line', { class: 'grid', x1: m.l, x2: m.l + pw, y1: yy, y2: yy }));
      nodes.push(svg('text', { class: 'axis', x: m.l - 8, y: yy + 4, 'text-anchor': 'end' }, opts.fmt(v)));
    }
    const step = TICK_STEPS.find((s) => span / s <= 6) || TICK_STEPS[TICK_STEPS.length - 1];
    for (let ago = Math.floor(span / step) * step; ago >= 0; ago -= step) {
      const xx = x(end - ago);
      nodes.push(svg('line', { class: 'tick', x1: xx, x2: xx, y1: m.t + ph, y2: m.t + ph + 4 }));
      nodes.push(svg('text', { class: 'axis', x: xx, y: hgt - 6, 'text-anchor': 'middle' }, fmtAgo(ago)));
    }

    // Segments of consecutive samples (a gap longer than 2.5 intervals
    // breaks the line).
    const segs = [];
    let cur = null;
    for (let i = 0; i < times.length; i++) {
      if (times[i] < start) continue;
      if (!cur || times[i] - times[i - 1] > 2.5 * opts.interval) {
        cur = [];
        segs.push(cur);
      }
      cur.push([x(times[i]), y(values[i])]);
    }
    for (const s of segs) {
      const line = s.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join('');
      const base = y(0).toFixed(1);
      const area = line + 'L' + s[s.length - 1][0].toFixed(1) + ' ' + base + 'L' + s[0][0].toFixed(1) + ' ' + base + 'Z';
      nodes.push(svg('path', { class: 'area ' + opts.cls, d: area }));
      nodes.push(svg('path', { class: 'line ' + opts.cls, d: line }));
    }
    if (times.length) {
      const lx = x(times[times.length - 1]), ly = y(values[values.length - 1]);
      nodes.push(svg('circle', { class: 'dot ' + opts.cls, cx: lx, cy: ly, r: 3.5 }));
    } else {
      nodes.push(svg('text', { class: 'empty', x: m.l + pw / 2, y: m.t + ph / 2, 'text-anchor': 'middle' }, 'collecting samples…'));
    }
    nodes.push(svg('line', { class: 'axisline', x1: m.l, x2: m.l + pw, y1: m.t + ph, y2: m.t + ph }));
    el.replaceChildren(...nodes);
    el.dataset.samples = String(times.length);
  }

  function drawCharts(ov) {
    const hist = ov.history;
    drawChart($('chart-ops'), hist.t_ms, hist.ops_per_sec, {
      cls: 'ops', fmt: fmtOps, emptyTop: 10, interval: hist.interval_ms,
    });
    drawChart($('chart-p99'), hist.t_ms, hist.p99_us, {
      cls: 'p99', fmt: fmtMicrosAxis, emptyTop: 1000, interval: hist.interval_ms,
    });
  }

  // ---- sections ------------------------------------------------------

  function memberRole(ov, mb) {
    if (mb.self && ov.role !== 'leader' && ov.role !== 'follower') return ov.role;
    if (mb.leader) return 'leader';
    return mb.voter ? 'follower' : 'nonvoter';
  }

  function renderMembers(ov) {
    const rows = ov.members.map((mb) => {
      const id = h('td', null, [mb.id]);
      if (mb.self) id.append(' ', h('span', { class: 'tag', text: 'this node' }));
      const role = memberRole(ov, mb);
      return h('tr', { class: mb.leader ? 'is-leader' : '', 'data-id': mb.id }, [
        h('td', { class: 'mark', title: mb.leader ? 'leader' : '', text: mb.leader ? '★' : '' }),
        id,
        h('td', { class: 'mono', text: mb.raft_addr }),
        h('td', null, [h('span', { class: 'role role-' + role, text: role })]),
      ]);
    });
    replaceRows($('members').tBodies[0], rows);
    $('members').hidden = rows.length === 0;
    $('members-empty').hidden = rows.length !== 0;
    setText('members-count', rows.length === 1 ? '1 member' : rows.length + ' members');
  }

  function renderKeyspace(ov) {
    const rows = ov.keyspace.map((db) =>
      h('tr', null, [
        h('td', { text: 'db' + db.db }),
        h('td', { class: 'num', text: fmtInt(db.keys) }),
        h('td', { class: 'num', text: fmtInt(db.expires) }),
      ]));
    replaceRows($('keyspace').tBodies[0], rows);
    $('keyspace').hidden = rows.length === 0;
    $('keyspace-empty').hidden = rows.length !== 0;
  }

  function renderSlowlog(ov) {
    const sl = ov.slowlog;
    const table = $('slowlog');
    const rows = sl.entries.map((e) => {
      let cmd = e.args.join(' ');
      if (cmd.length > 120) cmd = cmd.slice(0, 117) + '…';
      return h('tr', null, [
        h('td', { text: String(e.id) }),
        h('td', { text: fmtClock(e.time_unix * 1000) }),
        h('td', { class: 'num', text: fmtMicros(e.duration_us) }),
        h('td', { class: 'mono', text: cmd }),
        h('td', { class: 'mono', text: e.client + (e.client_name ? ' (' + e.client_name + ')' : '') }),
      ]);
    });
    replaceRows(table.tBodies[0], rows);
    table.hidden = rows.length === 0;
    let note = '';
    if (sl.slower_than_us < 0) note = 'SLOWLOG is off (slowlog-log-slower-than -1).';
    else if (rows.length === 0) note = 'No command slower than ' + fmtMicros(sl.slower_than_us) + ' yet.';
    else note = 'Newest first; commands slower than ' + fmtMicros(sl.slower_than_us) + ' are logged (SLOWLOG GET).';
    setText('slowlog-note', note);
  }

  function render(ov) {
    setText('node-id', ov.node_id || 'standalone node');
    const addrs = [];
    if (ov.resp_addr) addrs.push('RESP ' + ov.resp_addr);
    if (ov.raft_addr) addrs.push('Raft ' + ov.raft_addr);
    setText('node-addrs', addrs.join(' · '));

    const role = $('role');
    role.className = 'big role-text role-' + ov.role;
    setText('role', ov.role);
    setText('leader', ov.leader_id ? 'leader: ' + ov.leader_id : (ov.role === 'standalone' ? 'no replication' : 'no leader known'));
    $('leader').title = ov.leader_raft_addr || '';
    setText('term', fmtInt(ov.term));
    setText('commit-index', fmtInt(ov.commit_index));
    setText('applied-index', fmtInt(ov.applied_index));
    setText('last-index', fmtInt(ov.last_log_index));
    setText('snapshot-index', fmtInt(ov.last_snapshot_index));
    const lag = ov.commit_index - ov.applied_index;
    setText('apply-lag', lag > 0 ? 'applying: ' + fmtInt(lag) + ' behind commit' : 'applied up to commit');

    const ops = $('ops-now');
    ops.dataset.value = String(ov.commands.ops_per_sec);
    setText('ops-now', ov.history.t_ms.length ? fmtOps(ov.commands.ops_per_sec) : '…');
    setText('total-commands', fmtInt(ov.commands.total) + ' in total');
    $('p99-now').dataset.value = String(ov.commands.p99_us);
    setText('p99-now', ov.history.t_ms.length ? fmtMicros(ov.commands.p99_us) : '…');

    setText('mem-heap', fmtBytes(ov.memory.heap_bytes));
    setText('mem-sys', 'heap · ' + fmtBytes(ov.memory.sys_bytes) + ' from OS');
    setText('conns', fmtInt(ov.clients.connected));
    setText('blocked', fmtInt(ov.clients.blocked) + ' blocked');
    $('blocked').title = fmtInt(ov.clients.total_received) + ' connections accepted since start';

    setText('queues', ov.queues.available ? '' : 'Queues: ' + (ov.queues.note || 'not available'));
    setText('queues-blocked', 'Blocked clients: ' + fmtInt(ov.clients.blocked) + ' waiting on ' + fmtInt(ov.clients.blocking_keys) + (ov.clients.blocking_keys === 1 ? ' key' : ' keys') + '.');

    setText('version', 'skiff ' + (ov.version || ''));
    setText('uptime', fmtUptime(ov.uptime_seconds));

    renderMembers(ov);
    renderKeyspace(ov);
    renderSlowlog(ov);
    drawCharts(ov);
  }

  // ---- polling -------------------------------------------------------

  let last = null;

  async function poll() {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
    try {
      const res = await fetch('/v1/dashboard', { cache: 'no-store', credentials: 'same-origin', signal: ctl.signal });
      if (res.status === 401) throw new Error('this node requires a password');
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const ov = await res.json();
      last = ov;
      render(ov);
      setStatus('live', 'live · ' + fmtClock(ov.time_ms));
      document.body.dataset.loaded = 'true';
    } catch (err) {
      const why = err.name === 'AbortError' ? 'timed out' : err.message;
      setStatus('down', 'disconnected (' + why + ') · retrying');
    } finally {
      clearTimeout(timer);
      setTimeout(poll, POLL_MS);
    }
  }

  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (last) drawCharts(last);
    }, 100);
  });

  poll();
})();
