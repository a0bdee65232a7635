// The sync hub dashboard: status tiles, connections, accounting documents, Robaws customers, reseller usage, the
// Scheduled Syncs card (seed 001) and recent runs, refreshed live.
(() => {
  'use strict';
  const JOBS = {
    accounting: [
      ['sales', 'Sales'],
      ['bills', 'Bills'],
      ['full', 'Full sync'],
    ],
    splynx: [['customers', 'Customers']],
    crm: [
      ['robaws.customers.incremental', 'Robaws incremental'],
      ['robaws.customers.full', 'Robaws full'],
      ['robaws.customers.push', 'Robaws push'],
      ['cp.export', 'Loyalty export'],
      ['cp.visit', 'Loyalty visit'],
    ],
    usage: [['reseller.usage', 'Reseller usage']],
  };
  const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const $ = (sel) => document.querySelector(sel);
  const el = (tag, { dataset, ...props } = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    Object.assign(node.dataset, dataset ?? {}); // dataset itself is read-only
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
    return node;
  };
  let key = sessionStorage.getItem('syncHubKey');
  let timer = null;

  async function api(method, path, body) {
    const sentWith = key;
    const res = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${sentWith}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401) {
      // A late answer to a request made with a key since replaced (a wrong key, then the right one) changes nothing.
      if (sentWith === key) forget('That key was not accepted.');
      throw new Error('unauthorized');
    }
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok)
      throw Object.assign(
        new Error((data && (Array.isArray(data.message) ? data.message.join('; ') : data.message)) || res.statusText),
        { status: res.status },
      );
    return data;
  }

  function forget(message) {
    sessionStorage.removeItem('syncHubKey');
    key = null;
    clearInterval(timer);
    $('#app').hidden = true;
    $('#forget-key').hidden = true;
    $('#key-panel').hidden = false;
    $('#key-error').textContent = message || '';
    connectionsPoll.stop();
    accountingPoll.stop();
    usagePoll.stop();
  }

  async function open() {
    $('#key-panel').hidden = true;
    $('#app').hidden = false;
    $('#forget-key').hidden = false;
    await refresh();
    clearInterval(timer);
    timer = setInterval(() => void refresh(), 3000);
    connectionsPoll.start();
    accountingPoll.start();
    usagePoll.start();
    // Not polled: the list changes with runs and edits, and reloads after each action here; a poll would move the
    // rows under an operator's pointer.
    loadCustomersCard();
  }

  async function refresh() {
    try {
      await Promise.all([loadStatus(), loadSchedules(), loadRuns()]);
      $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (err.message !== 'unauthorized') $('#updated').textContent = `refresh failed: ${err.message}`;
    }
  }

  async function loadStatus() {
    const { data } = await api('GET', '/api/status');
    $('#status').replaceChildren(
      ...data.map((s) =>
        el(
          'div',
          {
            className: `tile ${s.state}`,
            title: s.last_run
              ? `last run ${s.last_run.status}${s.last_run.warnings.length ? ` with ${s.last_run.warnings.length} warning(s)` : ''}`
              : 'no run yet',
          },
          el('span', { className: 'state' }, s.state),
          el('b', {}, `${s.domain}/${s.job}`),
          el('span', { className: 'muted' }, `company ${s.company_id}`),
          el('div', { className: 'muted detail' }, tileDetail(s)),
          s.consecutive_failures
            ? el('div', { className: 'error' }, `${s.consecutive_failures} failure(s) in a row`)
            : '',
        ),
      ),
    );
  }

  /** Pending: scheduled, never run yet (not "no success yet", which a job that only failed also is). */
  function tileDetail(s) {
    if (s.state === 'pending')
      return `scheduled, not run yet${s.next_run_at ? `; first run ${new Date(s.next_run_at).toLocaleString()}` : ''}`;
    return s.last_success_at ? `last success ${new Date(s.last_success_at).toLocaleString()}` : 'no success yet';
  }

  function describe(s) {
    const time = `${String(s.hour_of_day ?? 0).padStart(2, '0')}:${String(s.minute).padStart(2, '0')}`;
    switch (s.frequency) {
      case 'every_minutes':
        return `Every ${s.interval_minutes} minutes`;
      case 'hourly':
        return `Hourly at :${String(s.minute).padStart(2, '0')}`;
      case 'daily':
        return `Daily at ${time}`;
      case 'weekly':
        return `Weekly, ${DAYS[s.day_of_week]} at ${time}`;
      default:
        return `Monthly, day ${s.day_of_month} at ${time}`;
    }
  }

  async function loadSchedules() {
    const company = Number($('#company').value) || 1;
    const rows = await api('GET', `/api/companies/${company}/schedules`);
    $('#schedules tbody').replaceChildren(
      ...rows.map((s) => {
        const toggle = el('input', {
          type: 'checkbox',
          checked: s.enabled,
          className: 'toggle',
          title: 'Enable or disable',
        });
        toggle.addEventListener(
          'change',
          () => void act(() => api('PATCH', `/api/schedules/${s.id}/toggle`, { enabled: toggle.checked })),
        );
        const run = el('button', { className: 'run-now' }, 'Run now');
        run.addEventListener('click', () => void act(() => api('POST', `/api/schedules/${s.id}/run`)));
        const edit = el('button', { className: 'link edit' }, 'Edit');
        edit.addEventListener('click', () => startEdit(s));
        const del = el('button', { className: 'link delete' }, 'Delete');
        del.addEventListener('click', () => {
          if (confirm(`Delete the ${s.job_type} schedule?`)) void act(() => api('DELETE', `/api/schedules/${s.id}`));
        });
        const next = s.enabled
          ? `Next sync: ${s.next_run_human}`
          : s.paused_reason
            ? `Paused: ${s.paused_reason}`
            : 'Disabled';
        return el(
          'tr',
          { dataset: { id: s.id, job: `${s.domain}/${s.job_type}` } },
          el('td', {}, `${s.domain} / ${s.job_type}`),
          el('td', {}, describe(s)),
          el('td', {}, s.date_range_days ? `Last ${s.date_range_days} days` : '—'),
          el('td', {}, toggle),
          el('td', { className: 'next-run' }, next),
          el('td', {}, run, edit, del),
        );
      }),
    );
  }

  async function loadRuns() {
    const { data } = await api('GET', '/api/runs?limit=20');
    $('#runs tbody').replaceChildren(
      ...data.map((r) =>
        el(
          'tr',
          { dataset: { runId: r.run_id } },
          el('td', {}, r.started_at ? new Date(r.started_at).toLocaleString() : '—'),
          el('td', {}, `${r.domain}/${r.job}`),
          el('td', {}, r.company_id),
          el('td', {}, r.trigger),
          el('td', { className: `status status-${r.status}` }, r.status, warningMarker(r.warnings), takeoverMarker(r)),
          el(
            'td',
            { className: 'muted' },
            r.stats
              ? Object.entries(r.stats)
                  .filter(([, v]) => v)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ') || '—'
              : '—',
          ),
          el(
            'td',
            { className: r.warnings.length ? 'warning' : 'error' },
            r.error
              ? `${r.error.origin}/${r.error.code}: ${r.error.message}`
              : r.skip_reason
                ? `skipped: ${r.skip_reason}`
                : r.warnings.join('; '),
          ),
        ),
      ),
    );
  }

  /** A completed run's warnings: a small marker with the list on hover (the row's last cell spells them out). */
  function warningMarker(warnings) {
    if (!warnings.length) return '';
    return el('span', { className: 'warn-marker', title: warnings.join('\n') }, ` ⚠ ${warnings.length}`);
  }

  /** Why a run was taken over, as TAKEOVER_REASON_TEXT in libs/contracts says it. */
  const TAKEOVER_REASONS = {
    claim_expired: 'worker stopped renewing its claim',
    handed_over: 'handed over at shutdown',
  };

  /** A run another worker took over: a small marker with the attempts, and when and why on hover. */
  function takeoverMarker(r) {
    if (!(r.attempts > 1)) return '';
    const why = TAKEOVER_REASONS[r.takeover_reason] ?? r.takeover_reason;
    const when = r.taken_over_at ? new Date(r.taken_over_at).toLocaleString() : '?';
    return el(
      'span',
      { className: 'takeover-marker', title: `attempt ${r.attempts}: taken over ${when} (${why})` },
      ` ↻ ${r.attempts}`,
    );
  }

  async function act(fn) {
    $('#form-error').textContent = '';
    try {
      await fn();
    } catch (err) {
      $('#form-error').textContent = err.message;
    }
    await refresh();
  }

  function fillJobs(selected) {
    $('#job-type').replaceChildren(
      ...JOBS[$('#domain').value].map(([v, label]) => el('option', { value: v, selected: v === selected }, label)),
    );
  }

  function showFrequencyFields() {
    $('#dow-field').hidden = $('#frequency').value !== 'weekly';
    $('#dom-field').hidden = $('#frequency').value !== 'monthly';
  }

  function startEdit(s) {
    $('#form-title').textContent = `Edit ${s.domain} / ${s.job_type}`;
    $('#domain').value = s.domain;
    fillJobs(s.job_type);
    $('#domain').disabled = true;
    $('#job-type').disabled = true;
    if (['hourly', 'daily', 'weekly', 'monthly'].includes(s.frequency)) $('#frequency').value = s.frequency;
    $('#time').value = `${String(s.hour_of_day ?? 0).padStart(2, '0')}:${String(s.minute).padStart(2, '0')}`;
    $('#day-of-week').value = String(s.day_of_week ?? 1);
    $('#day-of-month').value = String(s.day_of_month ?? 1);
    if (s.date_range_days) $('#date-range').value = String(s.date_range_days);
    $('#timezone').value = s.timezone;
    $('#enabled').checked = s.enabled;
    $('#cancel-edit').hidden = false;
    showFrequencyFields();
  }

  function resetForm() {
    $('#form-title').textContent = 'New schedule';
    $('#domain').disabled = false;
    $('#job-type').disabled = false;
    $('#cancel-edit').hidden = true;
  }

  /** A card's refresh: `load` now and every `everyMs` while the dashboard is open; `reset` forgets what it showed. */
  function poller(load, everyMs, reset) {
    let handle = null;
    return {
      start() {
        void load();
        clearInterval(handle);
        handle = setInterval(() => void load(), everyMs);
      },
      stop() {
        clearInterval(handle);
        reset();
      },
    };
  }

  // ---- Connections (issue 9): a card per company, Connect / Reconnect QuickBooks, the OAuth callback's result ----

  /** Connections change slowly (token expiries, a reconnect): polled every 30 s, and at once after an action. */
  const CONNECTIONS_EVERY_MS = 30000;
  /** What the card shows now: an unchanged answer leaves it alone, so a focused button keeps its focus. */
  let connectionsShown = '';
  const connectionsPoll = poller(
    () => loadConnections(),
    CONNECTIONS_EVERY_MS,
    () => (connectionsShown = ''),
  );

  /** GET /api/companies; company 1 alone where this version has no company routes (404). */
  async function listCompanies() {
    try {
      const companies = await api('GET', '/api/companies');
      return Array.isArray(companies) ? companies : (companies?.data ?? []);
    } catch (err) {
      if (err.status === 404) return [{ id: 1 }];
      throw err;
    }
  }

  async function loadConnections() {
    try {
      const companies = await listCompanies();
      const answers = await Promise.all(
        companies.map(async (company) => {
          try {
            return { company, connections: await api('GET', `/api/companies/${company.id}/connections`) };
          } catch (err) {
            if (err.message === 'unauthorized') throw err;
            return { company, error: err.message };
          }
        }),
      );
      $('#connections-error').textContent = '';
      const shown = JSON.stringify(answers);
      if (shown === connectionsShown) return;
      connectionsShown = shown;
      $('#connections').replaceChildren(
        ...answers.map((a) => companyConnections(a.company, a.connections ?? null, a.error)),
      );
    } catch (err) {
      if (err.message !== 'unauthorized')
        $('#connections-error').textContent = `Connections could not be loaded: ${err.message}`;
    }
  }

  /** "Acme Sh.p.k. (company 3)", or "Company 3" for a company without a name of its own; ", inactive" when it is. */
  function companyTitle(company) {
    const named = company.name && company.name !== `Company ${company.id}`;
    return `${named ? `${company.name} (company ${company.id})` : `Company ${company.id}`}${company.active === false ? ', inactive' : ''}`;
  }

  function companyConnections(company, connections, error) {
    const title = companyTitle(company);
    const find = (provider) => (connections ?? []).find((c) => c.provider === provider);
    return el(
      'article',
      { className: 'company-connections', dataset: { company: company.id } },
      el('h3', {}, title),
      error
        ? el('p', { className: 'error' }, `Connections unavailable: ${error}`)
        : el(
            'div',
            { className: 'connections-grid' },
            quickBooksPanel(company.id, find('quickbooks')),
            devposPanel(find('devpos')),
          ),
    );
  }

  /** The status as words (colour only repeats it): connected, not connected, reconnect required or failing, with why. */
  function connectionStatus(c) {
    if (!c?.connected) return el('p', { className: 'conn-status none' }, 'Not connected');
    if (c.status === 'ok') return el('p', { className: 'conn-status ok' }, 'Connected');
    const label = c.status === 'reauth_required' ? 'Reconnect required (reauth_required)' : `Failing (${c.status})`;
    return el('p', { className: 'conn-status error' }, `${label}${c.status_reason ? `: ${c.status_reason}` : ''}`);
  }

  function panel(provider, name, c, details, ...actions) {
    const rows = c?.connected ? details.flatMap(([term, value]) => [el('dt', {}, term), el('dd', {}, value)]) : [];
    return el(
      'section',
      {
        className: `connection ${provider} state-${c?.connected ? c.status : 'none'}`,
        dataset: { provider, status: c?.connected ? c.status : 'not_connected' },
      },
      el('h4', {}, name),
      connectionStatus(c),
      rows.length ? el('dl', {}, ...rows) : '',
      ...actions,
    );
  }

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

  function quickBooksPanel(companyId, c) {
    const error = el('p', { className: 'error connect-error' });
    error.setAttribute('role', 'alert');
    const connect = el(
      'button',
      { type: 'button', className: 'connect-quickbooks' },
      c?.connected ? 'Reconnect QuickBooks' : 'Connect QuickBooks',
    );
    connect.setAttribute('aria-label', `${connect.textContent} for company ${companyId}`);
    connect.addEventListener('click', () => void connectQuickBooks(companyId, connect, error));
    const days = c?.refresh_token_days_left;
    return panel(
      'quickbooks',
      'QuickBooks',
      c,
      [
        ['Realm', c?.settings ? `${c.settings.realm_id} (${c.settings.environment})` : '—'],
        [
          'Access token expires',
          c?.access_token_expires_at ? when(c.access_token_expires_at) : 'not fetched yet (fetched before first use)',
        ],
        [
          'Refresh token',
          c?.refresh_token_expires_at
            ? `expires in ${days} day${days === 1 ? '' : 's'} (${when(c.refresh_token_expires_at)})`
            : 'expiry not known yet',
        ],
        ['Last refreshed', when(c?.last_refreshed_at)],
      ],
      connect,
      error,
    );
  }

  function devposPanel(c) {
    return panel('devpos', 'DevPos', c, [
      ['Tenant', c?.settings?.tenant ?? '—'],
      ['User', c?.settings?.username ?? '—'],
      ['Login token expires', c?.access_token_expires_at ? when(c.access_token_expires_at) : 'no login yet'],
    ]);
  }

  /** Asks for Intuit's authorize URL (a signed, one-use state) and sends the browser there; Intuit sends it back. */
  async function connectQuickBooks(companyId, button, error) {
    button.disabled = true;
    error.textContent = '';
    try {
      const { url } = await api('GET', `/api/companies/${companyId}/connections/quickbooks/authorize`);
      window.location.assign(url);
    } catch (err) {
      button.disabled = false;
      if (err.message !== 'unauthorized') error.textContent = `Could not start connecting: ${err.message}`;
    }
  }

  /** After Intuit's redirect the hub lands here with ?company=N&quickbooks=connected|error&reason=…: say how it went. */
  function showOAuthResult() {
    const q = new URLSearchParams(window.location.search);
    const result = q.get('quickbooks');
    if (!result) return;
    const company = q.get('company') ?? '?';
    const ok = result === 'connected';
    const banner = $('#oauth-result');
    banner.classList.toggle('failed', !ok);
    banner.setAttribute('role', ok ? 'status' : 'alert');
    $('#oauth-result-text').textContent = ok
      ? `QuickBooks is connected for company ${company}.`
      : `QuickBooks was not connected for company ${company}: ${q.get('reason') || 'no reason given'}`;
    banner.hidden = false;
    // A reload should not announce it again.
    window.history.replaceState(null, '', window.location.pathname);
  }

  // ---- Accounting documents (issue 10): a company's last document runs, its failed documents and their Retry ----

  /** Runs and failures change with runs (minutes apart): polled every 10 s, and at once after a Retry. */
  const ACCOUNTING_EVERY_MS = 10000;
  const ACCOUNTING_RUNS_PER_JOB = 3;
  const FAILED_SHOWN = 100;
  /** What the card shows now: an unchanged answer leaves it alone, so a focused Retry keeps its focus. */
  let accountingShown = '';
  const accountingPoll = poller(
    () => loadAccounting(),
    ACCOUNTING_EVERY_MS,
    () => (accountingShown = ''),
  );

  /** The company picker: every company, the chosen one kept across refreshes. */
  async function fillAccountingCompanies() {
    const select = $('#accounting-company');
    const companies = await listCompanies();
    const chosen = select.value || String(companies[0]?.id ?? 1);
    const shown = JSON.stringify(companies.map((c) => [c.id, c.name]));
    if (select.dataset.shown === shown) return;
    select.dataset.shown = shown;
    select.replaceChildren(
      ...companies.map((c) =>
        el('option', { value: String(c.id), selected: String(c.id) === chosen }, companyTitle(c)),
      ),
    );
  }

  async function loadAccounting() {
    try {
      await fillAccountingCompanies();
      const company = Number($('#accounting-company').value) || 1;
      const [runs, failed] = await Promise.all([
        Promise.all(
          JOBS.accounting.map(async ([job, label]) => {
            const q = `domain=accounting&job=${encodeURIComponent(job)}&company_id=${company}&limit=${ACCOUNTING_RUNS_PER_JOB}`;
            return { job, label, runs: (await api('GET', `/api/runs?${q}`)).data };
          }),
        ),
        api('GET', `/api/companies/${company}/documents?status=failed&limit=${FAILED_SHOWN}`),
      ]);
      $('#accounting-error').textContent = '';
      const shown = JSON.stringify({ company, runs, failed });
      if (shown === accountingShown) return;
      accountingShown = shown;
      $('#accounting-runs tbody').replaceChildren(...runs.flatMap((j) => accountingRunRows(j)));
      $('#failed-documents tbody').replaceChildren(
        ...(failed.data.length
          ? failed.data.map((d) => failedRow(company, d))
          : [el('tr', { className: 'none' }, el('td', { colSpan: 5, className: 'muted' }, 'No failed documents.'))]),
      );
      $('#failed-more').hidden = !failed.next_cursor;
      $('#failed-more').textContent =
        `The newest ${FAILED_SHOWN} failed documents are shown; GET /api/companies/${company}/documents?status=failed lists them all.`;
    } catch (err) {
      if (err.message === 'unauthorized') return;
      accountingShown = '';
      $('#accounting-error').textContent = `Accounting documents could not be loaded: ${err.message}`;
    }
  }

  const STAT_COLUMNS = ['fetched', 'created', 'updated', 'unchanged', 'skipped', 'failed'];

  function accountingRunRows({ job, label, runs }) {
    if (!runs.length)
      return [
        el(
          'tr',
          { dataset: { job } },
          el('td', {}, label),
          el('td', { colSpan: 10, className: 'muted' }, 'no run yet'),
        ),
      ];
    return runs.map((r) =>
      el(
        'tr',
        { dataset: { job, runId: r.run_id } },
        el('td', {}, label),
        el('td', {}, r.started_at ? new Date(r.started_at).toLocaleString() : '—'),
        el('td', {}, r.trigger),
        el('td', { className: `status status-${r.status}` }, r.status, warningMarker(r.warnings), takeoverMarker(r)),
        ...STAT_COLUMNS.map((k) =>
          el(
            'td',
            { className: `count ${k}${k === 'failed' && r.stats?.failed ? ' error' : ''}` },
            // A skipped run did nothing: no counts rather than zeros.
            r.stats && r.status !== 'skipped' ? (r.stats[k] ?? 0) : '—',
          ),
        ),
        el(
          'td',
          { className: r.warnings.length ? 'warning' : 'error' },
          r.error
            ? `${r.error.origin}/${r.error.code}: ${r.error.message}`
            : r.skip_reason
              ? `skipped: ${r.skip_reason}`
              : r.warnings.join('; '),
        ),
      ),
    );
  }

  const documentName = (d) => d.document_number ?? d.eic;

  function failedRow(company, d) {
    const e = d.last_error;
    const retry = el('button', { type: 'button', className: 'retry' }, 'Retry');
    retry.setAttribute('aria-label', `Retry document ${documentName(d)}`);
    retry.addEventListener('click', () => void retryDocument(company, d, retry));
    return el(
      'tr',
      { dataset: { eic: d.eic } },
      el('td', { title: `EIC ${d.eic}` }, documentName(d)),
      el('td', { className: 'date' }, d.txn_date),
      el('td', {}, `${d.type} (${d.qbo_entity})`),
      el(
        'td',
        { className: 'reason' },
        e ? el('code', {}, e.code) : '—',
        e ? ` ${e.message}` : '',
        e?.element ? el('span', { className: 'muted' }, ` (element ${e.element})`) : '',
      ),
      el('td', {}, retry),
    );
  }

  /** The retry's answer in words: what the run did and where the document stands now. */
  function retryOutcome(name, r) {
    const run = `run ${r.run_id.slice(0, 8)} ${r.run_status}`;
    if (r.run_status === 'failed')
      return { ok: false, text: `Document ${name} was not retried: the ${run}: ${r.reason}` };
    if (r.reason) return { ok: false, text: `Document ${name}: ${r.reason} (${run}).` };
    const doc = r.document;
    if (doc.status === 'synced')
      return { ok: true, text: `Document ${name} is synced: QuickBooks ${doc.qbo_entity} ${doc.qbo_id} (${run}).` };
    const e = doc.last_error;
    return {
      ok: false,
      text: `Document ${name} is still ${doc.status}${e ? `: ${e.code} ${e.message}${e.element ? ` (element ${e.element})` : ''}` : ''} (${run}).`,
    };
  }

  function showRetryResult({ ok, text }) {
    const banner = $('#retry-result');
    banner.classList.toggle('failed', !ok);
    banner.setAttribute('role', ok ? 'status' : 'alert');
    banner.textContent = text;
    banner.hidden = false;
  }

  /** POSTs the retry (it answers when its run has ended), says how it went, and reloads the card. */
  async function retryDocument(company, d, button) {
    const name = documentName(d);
    button.disabled = true;
    button.textContent = 'Retrying…';
    try {
      const result = await api('POST', `/api/companies/${company}/documents/${encodeURIComponent(d.eic)}/retry`);
      showRetryResult(retryOutcome(name, result));
    } catch (err) {
      if (err.message === 'unauthorized') return;
      // 409: a sync of the company is running; the message says which and that nothing was tried.
      showRetryResult({
        ok: false,
        text: err.status === 409 ? `Not run: ${err.message}` : `Document ${name} was not retried: ${err.message}`,
      });
    }
    accountingShown = '';
    await loadAccounting();
    // Still listed (the answer did not change the table): make the button usable again.
    button.disabled = false;
    button.textContent = 'Retry';
  }

  // ---- Usage (issue 13): panels and their health, configs per reseller with their share of the limit, the failing
  // or stale ones, and Sync of one config with its diagnostic ----

  /** Usage moves every few minutes (the job's interval): polled every 30 s, and at once after a Sync. */
  const USAGE_EVERY_MS = 30000;
  const USAGE_PAGE = 50;
  /** The API's largest page, for the lists read whole (panels, resellers, the attention scan). */
  const USAGE_MAX_PAGE = 500;
  const USAGE_INTERVAL_SETTING = 'reseller.usage_sync_interval_minutes';
  /** The setting's default (seed 004), used while the setting cannot be read. */
  const USAGE_INTERVAL_DEFAULT = 5;
  /** What the card shows now (an unchanged answer leaves it alone, so a focused Sync keeps its focus). */
  let usageShown = '';
  let usageConfigsCursor = null;
  const usagePoll = poller(
    () => loadUsage(),
    USAGE_EVERY_MS,
    () => {
      usageShown = '';
      usageConfigsCursor = null;
    },
  );

  /** Every row of a usage list, following next_cursor, up to `cap` rows (`capped`: there were more). */
  async function usageList(path, query = {}, cap = Infinity) {
    const rows = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({ ...query, limit: String(USAGE_MAX_PAGE) });
      if (cursor) q.set('cursor', cursor);
      const page = await api('GET', `${path}?${q}`);
      rows.push(...page.data);
      cursor = page.next_cursor;
    } while (cursor && rows.length < cap);
    return { rows, capped: Boolean(cursor) };
  }

  /** The job's interval (the scheduler's setting), or the default with why the setting was not read. */
  async function usageInterval() {
    try {
      const s = await api('GET', `/api/settings/${encodeURIComponent(USAGE_INTERVAL_SETTING)}`);
      return { minutes: s.effective_value, unread: null };
    } catch (err) {
      if (err.message === 'unauthorized') throw err;
      return { minutes: USAGE_INTERVAL_DEFAULT, unread: err.message };
    }
  }

  const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

  /** Bytes for people: 1024-based with two decimals ("1.50 GiB"); the exact count goes in a title. */
  function humanBytes(n) {
    if (n === null || n === undefined) return '—';
    let v = Math.abs(n);
    let unit = 0;
    while (v >= 1024 && unit < BYTE_UNITS.length - 1) {
      v /= 1024;
      unit++;
    }
    return `${n < 0 ? '-' : ''}${unit ? v.toFixed(2) : v} ${BYTE_UNITS[unit]}`;
  }

  const bytesCell = (cls, n) => el('td', { className: cls, title: n === null ? '' : `${n} bytes` }, humanBytes(n));

  /** "12 min ago", "3 h ago": how old a time is, next to the time itself. */
  function ago(iso) {
    const minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 1) return 'just now';
    if (minutes < 120) return `${minutes} min ago`;
    const hours = Math.round(minutes / 60);
    return hours < 48 ? `${hours} h ago` : `${Math.round(hours / 24)} days ago`;
  }

  const whenAgo = (iso) => (iso ? `${when(iso)} (${ago(iso)})` : 'never');

  /** The panel's address without what could be a secret (user info, query, fragment). */
  function panelAddress(url) {
    try {
      const u = new URL(url);
      return `${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
    } catch {
      return '';
    }
  }

  /** The panel's circuit as usage-sync reports it; unknown where it does not say. */
  function circuitOf(p) {
    return ['closed', 'open', 'half_open'].includes(p.circuit_state) ? p.circuit_state : 'unknown';
  }

  /** The panel's health in a word, from the API's fields: what the operator looks at first. */
  function panelHealth(p) {
    if (!p.active) return ['inactive', 'Inactive (not synced)'];
    if (circuitOf(p) === 'open') return ['failing', 'Failing (circuit open)'];
    const failedLast = p.last_error_at && (!p.last_success_at || p.last_error_at > p.last_success_at);
    if (failedLast) return ['failing', 'Failing'];
    if (p.failing_config_count > 0) return ['degraded', 'Answering; some configs fail'];
    if (p.last_success_at) return ['ok', 'OK'];
    return ['unknown', 'Not synced yet'];
  }

  function panelRow(p) {
    const [health, healthText] = panelHealth(p);
    const circuit = circuitOf(p);
    return el(
      'tr',
      { dataset: { id: p.id, health, circuit } },
      el('td', { className: 'name' }, el('b', {}, p.name), el('div', { className: 'muted' }, panelAddress(p.url))),
      el('td', { className: 'type' }, p.type),
      el('td', { className: `health health-${health}` }, healthText),
      el('td', { className: 'configs' }, `${p.active_config_count} active of ${p.config_count}`),
      el('td', { className: 'last-success' }, whenAgo(p.last_success_at)),
      el(
        'td',
        { className: 'last-error' },
        p.last_error ? el('span', { className: 'error' }, p.last_error) : 'none',
        p.last_error_at ? el('div', { className: 'muted' }, whenAgo(p.last_error_at)) : '',
      ),
      el(
        'td',
        { className: `error-rate${p.failing_config_count ? ' error' : ''}` },
        p.error_rate === null || p.error_rate === undefined
          ? '— (no active configs)'
          : `${(p.error_rate * 100).toFixed(1)} % (${p.failing_config_count} of ${p.active_config_count} failing)`,
      ),
      el(
        'td',
        {
          className: `circuit circuit-${circuit}`,
          title: circuit === 'unknown' ? 'usage-sync does not report the circuit of its panels' : '',
        },
        circuit === 'half_open' ? 'half-open (trying again)' : circuit,
      ),
    );
  }

  /** A config's name in words: its id and its panel user. */
  const configName = (c) => `config ${c.id} (${c.external_username || 'no username'})`;

  function syncButton(c) {
    const b = el('button', { type: 'button', className: 'sync-config' }, 'Sync');
    b.setAttribute('aria-label', `Sync ${configName(c)}`);
    b.addEventListener('click', () => void syncConfig(c, b));
    return b;
  }

  /** The share of the traffic limit as a meter (amber from 80 %, red at 100 %) and in words. */
  function shareCell(c) {
    const percent =
      c.usage_percent ??
      (c.traffic_limit_bytes ? Math.round((c.usage_bytes / c.traffic_limit_bytes) * 10000) / 100 : null);
    if (percent === null) return el('td', { className: 'share muted' }, 'no limit');
    const meter = el('meter', { min: 0, max: 100, low: 80, high: 99.99, optimum: 0, value: Math.min(percent, 100) });
    meter.setAttribute('aria-label', `Share of the limit used by ${configName(c)}`);
    return el(
      'td',
      { className: `share${percent >= 100 ? ' over' : percent >= 80 ? ' near' : ''}` },
      meter,
      el('span', { className: 'percent' }, ` ${percent.toFixed(1)} %`),
    );
  }

  function configRow(c, names) {
    return el(
      'tr',
      { dataset: { id: c.id, failing: String(Boolean(c.last_usage_error)) } },
      el('td', { className: 'config' }, `${c.id} `, el('b', {}, c.external_username || '(no username)')),
      el('td', { className: 'reseller' }, names.reseller(c.reseller_id)),
      el('td', { className: 'panel' }, names.panel(c.panel_id)),
      el('td', { className: 'status' }, c.status),
      bytesCell('usage', c.usage_bytes),
      bytesCell('limit', c.traffic_limit_bytes),
      shareCell(c),
      el('td', { className: 'synced' }, whenAgo(c.usage_synced_at)),
      el(
        'td',
        { className: 'last-error' },
        c.last_usage_error ? el('span', { className: 'error' }, c.last_usage_error) : '—',
        c.last_usage_error_at ? el('div', { className: 'muted' }, when(c.last_usage_error_at)) : '',
      ),
      el('td', {}, syncButton(c)),
    );
  }

  /** Why a config needs a look: its last sync was a hard failure, and/or it has not been synced for two intervals. */
  function attentionReasons(c, staleMs) {
    const reasons = [];
    if (c.last_usage_error)
      reasons.push(
        el(
          'div',
          { className: 'reason failing' },
          el('b', {}, 'Hard failure'),
          c.last_usage_error_at ? ` ${when(c.last_usage_error_at)}: ` : ': ',
          el('span', { className: 'error' }, c.last_usage_error),
        ),
      );
    const since = c.usage_synced_at ?? c.created_at;
    if (Date.now() - new Date(since).getTime() > staleMs)
      reasons.push(
        el(
          'div',
          { className: 'reason stale' },
          el('b', {}, 'Stale'),
          c.usage_synced_at
            ? ` last synced ${whenAgo(c.usage_synced_at)}`
            : ` never synced (added ${ago(c.created_at)})`,
        ),
      );
    return reasons;
  }

  function attentionRow(c, reasons, names) {
    return el(
      'tr',
      {
        dataset: {
          id: c.id,
          reasons: reasons.map((r) => (r.classList.contains('failing') ? 'failing' : 'stale')).join(' '),
        },
      },
      el('td', { className: 'config' }, `${c.id} `, el('b', {}, c.external_username || '(no username)')),
      el('td', { className: 'reseller' }, names.reseller(c.reseller_id)),
      el('td', { className: 'panel' }, names.panel(c.panel_id)),
      el('td', { className: 'why' }, ...reasons),
      el('td', {}, syncButton(c)),
    );
  }

  /** The reseller filter: every reseller with its config count, the chosen one kept across refreshes. */
  function fillResellers(resellers) {
    const select = $('#usage-reseller');
    const chosen = select.value;
    const shown = JSON.stringify(resellers.map((r) => [r.id, r.name, r.config_count]));
    if (select.dataset.shown === shown) return;
    select.dataset.shown = shown;
    select.replaceChildren(
      el('option', { value: '' }, 'All resellers'),
      ...resellers.map((r) =>
        el(
          'option',
          { value: String(r.id), selected: String(r.id) === chosen },
          `${r.name} (${r.config_count} configs)`,
        ),
      ),
    );
  }

  function usageConfigsQuery(limit, cursor) {
    const q = new URLSearchParams({ limit: String(limit) });
    if ($('#usage-reseller').value) q.set('reseller_id', $('#usage-reseller').value);
    if (cursor) q.set('cursor', cursor);
    return q.toString();
  }

  /** The card: panels, resellers, the failing or stale configs, and the configs list as far as it is shown. */
  async function loadUsage() {
    try {
      const shownRows = $('#usage-configs tbody').querySelectorAll('tr[data-id]').length;
      const interval = await usageInterval();
      // Stale: not synced for two intervals; usage-sync finds them (synced_before), not a scan of every config here.
      const staleBefore = new Date(Date.now() - 2 * interval.minutes * 60000).toISOString();
      const [panels, resellers, failing, active, configs] = await Promise.all([
        usageList('/api/usage/panels'),
        usageList('/api/usage/resellers'),
        usageList('/api/usage/configs', { status: 'active', failing: 'true' }, USAGE_MAX_PAGE),
        usageList('/api/usage/configs', { status: 'active', synced_before: staleBefore }, USAGE_MAX_PAGE),
        // The rows shown so far (a poll keeps what "More configs" added), from the first.
        api(
          'GET',
          `/api/usage/configs?${usageConfigsQuery(Math.min(Math.max(shownRows, USAGE_PAGE), USAGE_MAX_PAGE))}`,
        ),
      ]);
      $('#usage-error').textContent = '';
      const chosen = $('#usage-reseller').value;
      // The minute too: staleness and "12 min ago" move with the clock even when the answers do not.
      const minute = Math.floor(Date.now() / 60000);
      const shown = JSON.stringify({ panels, resellers, interval, failing, active, configs, chosen, minute });
      if (shown === usageShown) return;
      usageShown = shown;
      renderUsage({ panels: panels.rows, resellers: resellers.rows, interval, failing, active, configs });
    } catch (err) {
      if (err.message === 'unauthorized') return;
      usageShown = '';
      $('#usage-error').textContent = `Usage could not be loaded: ${err.message}`;
    }
  }

  function usageNames(panels, resellers) {
    const panelById = new Map(panels.map((p) => [p.id, p]));
    const resellerById = new Map(resellers.map((r) => [r.id, r]));
    return {
      panelById,
      panel: (id) => (panelById.get(id) ? `${panelById.get(id).name} (${panelById.get(id).type})` : `panel ${id}`),
      reseller: (id) => resellerById.get(id)?.name ?? `reseller ${id}`,
    };
  }

  function renderUsage({ panels, resellers, interval, failing, active, configs }) {
    const names = usageNames(panels, resellers);
    fillResellers(resellers);
    $('#usage-panels tbody').replaceChildren(
      ...(panels.length
        ? panels.map(panelRow)
        : [el('tr', { className: 'none' }, el('td', { colSpan: 8, className: 'muted' }, 'No panels yet.'))]),
    );

    const staleMinutes = 2 * interval.minutes;
    $('#usage-attention-rule').textContent =
      `Active configs of active panels whose last sync was a hard failure, or not synced for more than two intervals: ${staleMinutes} minutes (${
        interval.unread === null
          ? `${USAGE_INTERVAL_SETTING} is ${interval.minutes}`
          : `the default interval of ${USAGE_INTERVAL_DEFAULT} minutes; ${USAGE_INTERVAL_SETTING} could not be read: ${interval.unread}`
      }).`;
    const byId = new Map();
    for (const c of [...failing.rows, ...active.rows]) byId.set(c.id, c);
    const attention = [...byId.values()]
      .filter((c) => names.panelById.get(c.panel_id)?.active !== false)
      .map((c) => ({ c, reasons: attentionReasons(c, staleMinutes * 60000) }))
      .filter((a) => a.reasons.length)
      .sort((a, b) => a.c.id - b.c.id);
    $('#usage-attention tbody').replaceChildren(
      ...(attention.length
        ? attention.map((a) => attentionRow(a.c, a.reasons, names))
        : [
            el(
              'tr',
              { className: 'none' },
              el('td', { colSpan: 5, className: 'muted' }, 'No config is failing or stale.'),
            ),
          ]),
    );
    $('#usage-attention-more').hidden = !failing.capped && !active.capped;
    $('#usage-attention-more').textContent =
      `Only the first ${USAGE_MAX_PAGE} failing and ${USAGE_MAX_PAGE} stale configs are listed; GET /api/usage/configs?failing=true (or ?synced_before=…) lists every one.`;

    usageConfigsCursor = configs.next_cursor;
    $('#usage-configs tbody').replaceChildren(
      ...(configs.data.length
        ? configs.data.map((c) => configRow(c, names))
        : [el('tr', { className: 'none' }, el('td', { colSpan: 10, className: 'muted' }, 'No configs.'))]),
    );
    $('#usage-configs-more').hidden = !usageConfigsCursor;
    usageNamesShown = names;
  }

  /** The names the configs list was drawn with, for the rows "More configs" appends. */
  let usageNamesShown = usageNames([], []);

  async function moreUsageConfigs() {
    try {
      const page = await api('GET', `/api/usage/configs?${usageConfigsQuery(USAGE_PAGE, usageConfigsCursor)}`);
      usageConfigsCursor = page.next_cursor;
      $('#usage-configs tbody').append(...page.data.map((c) => configRow(c, usageNamesShown)));
      $('#usage-configs-more').hidden = !usageConfigsCursor;
      usageShown = '';
    } catch (err) {
      if (err.message !== 'unauthorized') $('#usage-error').textContent = `Configs could not be loaded: ${err.message}`;
    }
  }

  const SYNC_STATUS_WORDS = {
    updated: 'updated',
    unchanged: 'unchanged',
    hard_failure: 'hard failure: the stored usage is kept',
    skipped: 'skipped: nothing was read',
  };

  const signed = (n) => (n > 0 ? `+${humanBytes(n)}` : humanBytes(n));
  const withBytes = (n) => (n === null || n === undefined ? '—' : `${humanBytes(n)} (${n} bytes)`);

  /** The diagnostic in words: what the panel answered, from which field, and the stored usage before and after. */
  function showSyncDiagnostic(c, d) {
    const ok = d.status === 'updated' || d.status === 'unchanged';
    const banner = $('#usage-sync-result');
    banner.classList.toggle('failed', !ok);
    banner.setAttribute('role', ok ? 'status' : 'alert');
    banner.dataset.status = d.status;
    const fields = [
      ['status', 'Status', SYNC_STATUS_WORDS[d.status] ?? d.status],
      ['panel_type', 'Panel type', d.panel_type],
      ['fetched_bytes', 'Fetched', withBytes(d.fetched_bytes)],
      ['source_field', 'Source field', d.source_field ?? '—'],
      ['previous_bytes', 'Previous', withBytes(d.previous_bytes)],
      ['current_bytes', 'Current', withBytes(d.current_bytes)],
      ['delta_bytes', 'Delta', `${signed(d.delta_bytes)} (${d.delta_bytes} bytes)`],
      ...(d.error ? [['error', 'Error', d.error]] : []),
    ];
    banner.replaceChildren(
      el('b', {}, `Sync of ${configName(c)}: ${d.status.replace('_', ' ')}`),
      el(
        'dl',
        { className: 'diagnostic' },
        ...fields.flatMap(([field, term, value]) => [el('dt', {}, term), el('dd', { dataset: { field } }, value)]),
      ),
    );
    banner.hidden = false;
  }

  function showSyncFailure(text) {
    const banner = $('#usage-sync-result');
    banner.classList.add('failed');
    banner.setAttribute('role', 'alert');
    banner.dataset.status = 'error';
    banner.replaceChildren(text);
    banner.hidden = false;
  }

  /** POSTs the config's sync (it answers when the read has ended), shows the diagnostic and reloads the card. */
  async function syncConfig(c, button) {
    // The last Sync's answer is not this one's: gone until this one answers.
    $('#usage-sync-result').hidden = true;
    button.disabled = true;
    button.textContent = 'Syncing…';
    try {
      showSyncDiagnostic(c, await api('POST', `/api/usage/configs/${c.id}/sync`));
    } catch (err) {
      if (err.message === 'unauthorized') return;
      showSyncFailure(`The ${configName(c)} was not synced: ${err.message}`);
    }
    // Still shown (the answer did not change the row): make the button usable again.
    button.disabled = false;
    button.textContent = 'Sync';
    usageShown = '';
    await loadUsage();
  }

  // ---- Robaws customers (issue 11): search, role filter, markers, edit, sync / push one, conflicts, duplicates ----

  /** The editable fields in the form's order: API name and label. */
  const CUSTOMER_FIELDS = [
    ['name', 'Name'],
    ['role', 'Role'],
    ['email', 'Email'],
    ['tel', 'Phone'],
    ['gsm', 'Mobile'],
    ['website', 'Website'],
    ['address_line1', 'Address line 1'],
    ['address_line2', 'Address line 2'],
    ['postal_code', 'Postal code'],
    ['city', 'City'],
    ['country', 'Country'],
    ['vat_number', 'VAT number'],
  ];
  const CUSTOMERS_PAGE = 50;
  /** The next page's cursor of the list shown, and the customer in the form. */
  let customersCursor = null;
  let editing = null;
  const rolesSeen = new Set();

  function customersQuery(cursor) {
    const q = new URLSearchParams({ limit: String(CUSTOMERS_PAGE) });
    const text = $('#customers-q').value.trim();
    const role = $('#customers-role').value.trim();
    if (text) q.set('q', text);
    if (role) q.set('role', role);
    if ($('#customers-dirty').checked) q.set('dirty', 'true');
    if (cursor) q.set('cursor', cursor);
    return q.toString();
  }

  /** The list from its first page (`more`: the next page appended). */
  async function loadCustomers(more = false) {
    try {
      const page = await api('GET', `/api/crm/customers?${customersQuery(more ? customersCursor : null)}`);
      $('#customers-error').textContent = '';
      customersCursor = page.next_cursor;
      for (const c of page.data) if (c.role) rolesSeen.add(c.role);
      $('#customers-roles').replaceChildren(...[...rolesSeen].sort().map((r) => el('option', { value: r })));
      const rows = page.data.map(customerRow);
      if (more) $('#customers tbody').append(...rows);
      else
        $('#customers tbody').replaceChildren(
          ...(rows.length
            ? rows
            : [el('tr', { className: 'none' }, el('td', { colSpan: 8, className: 'muted' }, 'No customers found.'))]),
        );
      $('#customers-more').hidden = !customersCursor;
    } catch (err) {
      if (err.message !== 'unauthorized')
        $('#customers-error').textContent = `Robaws customers could not be loaded: ${err.message}`;
    }
  }

  async function loadDuplicates() {
    try {
      const { data } = await api('GET', '/api/crm/customers/duplicates?limit=50');
      $('#customer-duplicates').replaceChildren(
        ...(data.length
          ? data.map((g) =>
              el(
                'li',
                { dataset: { kind: g.kind, value: g.value } },
                el('b', {}, `${g.kind === 'vat_number' ? 'VAT number' : 'Email'} ${g.value}: `),
                g.customers.map((c) => `${c.name ?? '(no name)'} (${c.robaws_id})`).join(', '),
              ),
            )
          : [el('li', { className: 'muted none' }, 'No customers share a VAT number or an email.')]),
      );
    } catch (err) {
      if (err.message !== 'unauthorized')
        $('#customers-error').textContent = `Possible duplicates could not be loaded: ${err.message}`;
    }
  }

  /** Markers in words: edited (which fields), conflict, deleted in Robaws; "in sync" when none. */
  function customerMarkers(c) {
    const markers = [];
    if (c.local_edit)
      markers.push(
        el(
          'span',
          { className: 'marker dirty', title: `not pushed yet: ${Object.keys(c.local_edit.fields).join(', ')}` },
          'edited',
        ),
      );
    if (c.conflict) markers.push(el('span', { className: 'marker conflict' }, 'conflict'));
    if (c.deleted_upstream) markers.push(el('span', { className: 'marker deleted' }, 'deleted in Robaws'));
    return markers.length ? markers : [el('span', { className: 'muted' }, 'in sync')];
  }

  function customerRow(c) {
    const name = c.name ?? `customer ${c.robaws_id}`;
    const button = (cls, text, label, onClick) => {
      const b = el('button', { type: 'button', className: cls }, text);
      b.setAttribute('aria-label', `${label} ${name}`);
      b.addEventListener('click', () => void onClick(b));
      return b;
    };
    return el(
      'tr',
      { dataset: { id: c.robaws_id, dirty: String(c.dirty) } },
      el('td', {}, c.robaws_id),
      el('td', { className: 'name' }, c.name ?? '—'),
      el('td', { className: 'role' }, c.role ?? '—'),
      el('td', { className: 'email' }, c.email ?? '—'),
      el('td', { className: 'phone' }, c.phone ?? c.tel ?? c.gsm ?? '—'),
      el('td', { className: 'vat' }, c.vat_number ?? '—', c.vat_valid === false ? ' (invalid)' : ''),
      el('td', { className: 'state' }, ...customerMarkers(c)),
      el(
        'td',
        {},
        button('link edit-customer', c.conflict ? 'Resolve' : 'Edit', c.conflict ? 'Resolve' : 'Edit', () =>
          editCustomer(c.robaws_id),
        ),
        button('sync-customer', 'Sync', 'Sync', (b) => runForCustomer(c, 'sync', b)),
        button('push-customer', 'Push', 'Push', (b) => runForCustomer(c, 'push', b)),
      ),
    );
  }

  function showCustomerResult(ok, text) {
    const banner = $('#customer-result');
    banner.classList.toggle('failed', !ok);
    banner.setAttribute('role', ok ? 'status' : 'alert');
    banner.textContent = text;
    banner.hidden = false;
  }

  /** Sync or Push of one customer: answers when its run has ended; says how it went and reloads the list. */
  async function runForCustomer(c, what, button) {
    const name = c.name ?? `customer ${c.robaws_id}`;
    const label = button.textContent;
    button.disabled = true;
    button.textContent = what === 'sync' ? 'Syncing…' : 'Pushing…';
    try {
      const r = await api('POST', `/api/crm/customers/${c.robaws_id}/${what}`);
      const run = `run ${r.run_id.slice(0, 8)} ${r.run_status}`;
      if (r.run_status === 'failed') showCustomerResult(false, `${name} was not ${what}ed: ${r.reason} (${run}).`);
      else if (what === 'sync') showCustomerResult(true, `${r.customer.name ?? name} is synced from Robaws (${run}).`);
      else if (r.customer.conflict)
        showCustomerResult(
          false,
          `${name} was not pushed: Robaws changed it meanwhile; resolve the conflict (${run}).`,
        );
      else showCustomerResult(true, `${name} is pushed to Robaws (${run}).`);
    } catch (err) {
      if (err.message === 'unauthorized') return;
      showCustomerResult(false, err.status === 409 ? `Not run: ${err.message}` : `${name}: ${err.message}`);
    }
    button.disabled = false;
    button.textContent = label;
    await Promise.all([loadCustomers(), loadDuplicates()]);
  }

  /** Opens the form with the customer as it is now (and its conflict, if it has one). */
  async function editCustomer(id) {
    try {
      const c = await api('GET', `/api/crm/customers/${id}`);
      editing = c;
      $('#customer-form-title').textContent = `Edit ${c.name ?? `customer ${c.robaws_id}`} (Robaws ${c.robaws_id})`;
      $('#customer-form-error').textContent = '';
      $('#customer-fields').replaceChildren(
        ...CUSTOMER_FIELDS.map(([field, label]) =>
          el(
            'label',
            { dataset: { field } },
            label,
            el('input', { name: field, value: c[field] ?? '', disabled: Boolean(c.conflict) }),
            el('span', { className: 'error field-error' }),
          ),
        ),
      );
      $('#customer-conflict').hidden = !c.conflict;
      $('#save-customer').disabled = Boolean(c.conflict);
      if (c.conflict) {
        const fields = Object.keys({ ...c.conflict.local, ...c.conflict.remote });
        $('#customer-conflict-fields tbody').replaceChildren(
          ...fields.map((f) =>
            el(
              'tr',
              { dataset: { field: f } },
              el('td', {}, f),
              el('td', { className: 'local' }, c.conflict.local[f] ?? '—'),
              el('td', { className: 'remote' }, c.conflict.remote[f] ?? '—'),
            ),
          ),
        );
      }
      $('#customer-form').hidden = false;
      $('#customer-form').scrollIntoView({ block: 'nearest' });
    } catch (err) {
      if (err.message !== 'unauthorized') showCustomerResult(false, `Could not open the customer: ${err.message}`);
    }
  }

  function closeCustomerForm() {
    editing = null;
    $('#customer-form').hidden = true;
  }

  /** PATCHes the fields the operator changed; a 400 names each bad field beside it, and nothing is saved. */
  async function saveCustomer() {
    if (!editing) return;
    const changed = {};
    for (const input of $('#customer-fields').querySelectorAll('input')) {
      const before = editing[input.name] ?? '';
      if (input.value.trim() !== before) changed[input.name] = input.value.trim() === '' ? null : input.value;
      input.nextElementSibling.textContent = '';
    }
    $('#customer-form-error').textContent = '';
    if (!Object.keys(changed).length) {
      $('#customer-form-error').textContent = 'Nothing changed.';
      return;
    }
    const id = editing.robaws_id;
    const res = await fetch(`/api/crm/customers/${id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(changed),
    });
    if (res.status === 401) return forget('That key was not accepted.');
    const body = await res.json().catch(() => null);
    if (res.status === 400 && body?.fields) {
      for (const [field, reasons] of Object.entries(body.fields)) {
        const label = $('#customer-fields').querySelector(`label[data-field="${field}"] .field-error`);
        if (label) label.textContent = reasons.join('; ');
      }
      $('#customer-form-error').textContent = `Not saved: ${body.message.join('; ')}`;
      return;
    }
    if (!res.ok) {
      $('#customer-form-error').textContent = `Not saved: ${body?.message ?? res.statusText}`;
      return;
    }
    closeCustomerForm();
    showCustomerResult(
      true,
      body.dirty
        ? `${body.name ?? id} is saved here and marked edited (${Object.keys(body.local_edit.fields).join(', ')}): Push sends it to Robaws.`
        : `${body.name ?? id} is saved: it is as in Robaws again, nothing to push.`,
    );
    await Promise.all([loadCustomers(), loadDuplicates()]);
  }

  async function resolveConflict(keep) {
    if (!editing) return;
    const id = editing.robaws_id;
    try {
      const c = await api('POST', `/api/crm/customers/${id}/resolve`, { keep });
      closeCustomerForm();
      showCustomerResult(
        true,
        keep === 'local'
          ? `${c.name ?? id}: the edit is kept and will be pushed (Push sends it now).`
          : `${c.name ?? id}: Robaws's version is kept, the edit dropped.`,
      );
    } catch (err) {
      if (err.message !== 'unauthorized') $('#customer-form-error').textContent = `Not resolved: ${err.message}`;
    }
    await Promise.all([loadCustomers(), loadDuplicates()]);
  }

  function loadCustomersCard() {
    void loadCustomers();
    void loadDuplicates();
  }

  $('#customers-search').addEventListener('submit', (e) => {
    e.preventDefault();
    void loadCustomers();
  });
  $('#customers-dirty').addEventListener('change', () => void loadCustomers());
  $('#customers-more').addEventListener('click', () => void loadCustomers(true));
  $('#customer-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void saveCustomer();
  });
  $('#cancel-customer').addEventListener('click', closeCustomerForm);
  $('#usage-reseller').addEventListener('change', () => {
    // A new filter starts from its first page.
    $('#usage-configs tbody').replaceChildren();
    usageShown = '';
    void loadUsage();
  });
  $('#usage-configs-more').addEventListener('click', () => void moreUsageConfigs());
  $('#keep-local').addEventListener('click', () => void resolveConflict('local'));
  $('#keep-remote').addEventListener('click', () => void resolveConflict('remote'));

  $('#domain').replaceChildren(...Object.keys(JOBS).map((d) => el('option', { value: d }, d)));
  fillJobs();
  showFrequencyFields();
  $('#domain').addEventListener('change', () => fillJobs());
  $('#frequency').addEventListener('change', showFrequencyFields);
  $('#company').addEventListener('change', () => void refresh());
  $('#accounting-company').addEventListener('change', () => {
    $('#retry-result').hidden = true;
    void loadAccounting();
  });
  $('#cancel-edit').addEventListener('click', resetForm);
  $('#forget-key').addEventListener('click', () => forget());
  $('#schedule-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const [hour, minute] = $('#time').value.split(':').map(Number);
    const frequency = $('#frequency').value;
    const body = {
      domain: $('#domain').value,
      job_type: $('#job-type').value,
      frequency,
      minute,
      date_range_days: Number($('#date-range').value),
      timezone: $('#timezone').value || 'UTC',
      enabled: $('#enabled').checked,
      ...(frequency !== 'hourly' ? { hour_of_day: hour } : {}),
      ...(frequency === 'weekly' ? { day_of_week: Number($('#day-of-week').value) } : {}),
      ...(frequency === 'monthly' ? { day_of_month: Number($('#day-of-month').value) } : {}),
    };
    void act(async () => {
      await api('POST', `/api/companies/${Number($('#company').value) || 1}/schedules`, body);
      resetForm();
    });
  });
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    key = $('#api-key').value.trim();
    sessionStorage.setItem('syncHubKey', key);
    void open();
  });
  $('#oauth-result-dismiss').addEventListener('click', () => ($('#oauth-result').hidden = true));
  showOAuthResult();
  if (key) void open();
  else forget();
})();
