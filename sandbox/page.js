// The sandbox page: polls /api/state every second and draws the emulated Slack channels and threads from the bot's
// real Block Kit messages; what you type or press goes to /api/*, which signs it like Slack and sends it to the bot.
// Plain browser JavaScript, no build step.

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;

const ui = {
  user: localStorage.getItem('sandbox.user') || 'U0LEAD',
  channel: localStorage.getItem('sandbox.channel') || 'C0DEV',
  /** ts of the open thread's root, or null. */
  thread: null,
  data: null,
  lastJson: '',
  /** Per channel: how many messages (roots and replies) were there when it was last looked at. */
  seen: {},
  /** Thread roots already known, so "follow" only moves on a new one. */
  knownRoots: null,
  /** Last HTML written per container, so an unchanged poll leaves the DOM (and scroll) alone. */
  html: {},
  /** Set when the view changes (another channel or thread): show its latest messages. */
  scrollToEnd: true,
  /** Report check runs the reader unfolded in the GitHub panel, by id: a redraw keeps them open. */
  openReports: new Set(),
};

// ---------------------------------------------------------------------------------------------------------------
// mrkdwn: Slack's own markup (https://api.slack.com/reference/surfaces/formatting)

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Slack escapes only &, < and > in message text; turn those back into characters before escaping for HTML. */
function unslack(text) {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function userName(id) {
  return (ui.data && ui.data.names[id]) || id;
}

function formatTime(date) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** `<!date^1700000000^{date_short_pretty} {time}|fallback>` in the reader's time zone. */
function formatSlackDate(seconds, format) {
  const d = new Date(seconds * 1000);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const short = d.toLocaleDateString([], { month: 'short', day: 'numeric' });
  const long = d.toLocaleDateString([], { month: 'long', day: 'numeric', year: 'numeric' });
  const hm = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return format
    .replace('{date_short_pretty}', sameDay ? 'Today' : short)
    .replace('{date_pretty}', sameDay ? 'Today' : long)
    .replace('{date_long_pretty}', sameDay ? 'Today' : long)
    .replace('{date_short}', short)
    .replace('{date_long}', long)
    .replace('{date}', long)
    .replace('{date_num}', d.toISOString().slice(0, 10))
    .replace('{time_secs}', formatTime(d))
    .replace('{time}', hm);
}

/** One `<…>` control sequence: links, mentions, channels, dates, special mentions. */
function renderControl(inner) {
  const [target, ...rest] = inner.split('|');
  const label = rest.join('|');
  if (target.startsWith('@')) return `<span class="mention">@${escapeHtml(userName(target.slice(1)))}</span>`;
  if (target.startsWith('#')) return `<span class="mention">#${escapeHtml(label || channelName(target.slice(1)))}</span>`;
  if (target.startsWith('!date^')) {
    const [, seconds, format] = target.split('^');
    return `<time>${escapeHtml(formatSlackDate(Number(seconds), format || '{date_short_pretty} {time}'))}</time>`;
  }
  if (target.startsWith('!')) return `<span class="mention">@${escapeHtml(label || target.slice(1).split('^')[0])}</span>`;
  const url = unslack(target);
  if (!/^(https?:|mailto:)/.test(url)) return escapeHtml(unslack(inner));
  const permalink = parsePermalink(url);
  const data = permalink ? ` data-channel="${escapeHtml(permalink.channel)}" data-ts="${escapeHtml(permalink.ts)}"` : '';
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer"${data}>${escapeHtml(unslack(label || target))}</a>`;
}

/** A Slack permalink (`…/archives/C0QA/p1700000000123456?thread_ts=…`) points into this page: channel and thread. */
function parsePermalink(url) {
  const m = /\/archives\/([CGD][A-Z0-9]+)\/p(\d{10})(\d{6})(?:\?.*thread_ts=([\d.]+))?/.exec(url);
  return m ? { channel: m[1], ts: m[4] || `${m[2]}.${m[3]}` } : undefined;
}

/** Renders Slack mrkdwn to HTML: code, links and mentions first (their insides are not formatted), then *b* _i_ ~s~. */
function mrkdwn(text) {
  const held = [];
  const hold = (html) => `\u0000${held.push(html) - 1}\u0000`;
  let s = String(text ?? '');
  s = s.replace(/```([\s\S]*?)```/g, (_, code) => hold(`<pre>${escapeHtml(unslack(code.replace(/^\n/, '')))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code) => hold(`<code>${escapeHtml(unslack(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (_, inner) => hold(renderControl(inner)));
  s = escapeHtml(unslack(s));
  s = s.replace(/(^|[\s(\u0000])\*(?!\s)([^*\n]+?)\*(?=$|[\s).,:;!?\u0000])/g, '$1<b>$2</b>');
  s = s.replace(/(^|[\s(\u0000])_(?!\s)([^_\n]+?)_(?=$|[\s).,:;!?\u0000])/g, '$1<i>$2</i>');
  s = s.replace(/(^|[\s(\u0000])~(?!\s)([^~\n]+?)~(?=$|[\s).,:;!?\u0000])/g, '$1<s>$2</s>');
  s = s.replace(/^&gt; ?(.*)$/gm, '<blockquote>$1</blockquote>');
  s = s.replace(/\n/g, '<br>');
  // Placeholders may sit inside bold text; restore until none is left.
  while (/\u0000\d+\u0000/.test(s)) s = s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
  return s;
}

function textObject(t) {
  if (!t) return '';
  return t.type === 'plain_text' ? escapeHtml(t.text).replace(/\n/g, '<br>') : mrkdwn(t.text);
}

// ---------------------------------------------------------------------------------------------------------------
// Block Kit (https://api.slack.com/reference/block-kit/blocks)

/** Renders an interactive element; `ctx` says where a press goes (null: not pressable, e.g. in an ephemeral). */
function element(el, ctx, blockId) {
  if (!el) return '';
  if (el.type === 'button') {
    const style = el.style === 'primary' || el.style === 'danger' ? ` ${el.style}` : '';
    if (el.url) return `<a class="block-button${style}" href="${escapeHtml(el.url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(el.text?.text ?? '')}</a>`;
    const payload = ctx ? escapeHtml(JSON.stringify({ ...ctx, actionId: el.action_id, value: el.value ?? '', blockId, confirm: el.confirm ?? null })) : '';
    return `<button type="button" class="block-button${style}"${ctx ? ` data-action="${payload}"` : ' disabled'}>${escapeHtml(el.text?.text ?? '')}</button>`;
  }
  if (el.type === 'image') return `<img class="block-image-small" src="${escapeHtml(el.image_url)}" alt="${escapeHtml(el.alt_text ?? '')}">`;
  if (el.type === 'overflow') return '<button type="button" class="block-button" disabled>⋯</button>';
  const label = el.placeholder?.text ?? el.initial_option?.text?.text ?? el.type;
  return `<span class="block-unsupported">[${escapeHtml(label)}]</span>`;
}

function richText(node) {
  if (Array.isArray(node)) return node.map(richText).join('');
  if (!node) return '';
  switch (node.type) {
    case 'rich_text_section': return richText(node.elements);
    case 'rich_text_list': {
      const tag = node.style === 'ordered' ? 'ol' : 'ul';
      return `<${tag}>${(node.elements ?? []).map((e) => `<li>${richText(e)}</li>`).join('')}</${tag}>`;
    }
    case 'rich_text_preformatted': return `<pre>${richText(node.elements)}</pre>`;
    case 'rich_text_quote': return `<blockquote>${richText(node.elements)}</blockquote>`;
    case 'text': {
      let html = escapeHtml(node.text).replace(/\n/g, '<br>');
      const st = node.style ?? {};
      if (st.code) html = `<code>${html}</code>`;
      if (st.bold) html = `<b>${html}</b>`;
      if (st.italic) html = `<i>${html}</i>`;
      if (st.strike) html = `<s>${html}</s>`;
      return html;
    }
    case 'link': return `<a href="${escapeHtml(node.url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(node.text ?? node.url)}</a>`;
    case 'user': return `<span class="mention">@${escapeHtml(userName(node.user_id))}</span>`;
    case 'channel': return `<span class="mention">#${escapeHtml(channelName(node.channel_id))}</span>`;
    case 'emoji': return node.unicode ? String.fromCodePoint(...node.unicode.split('-').map((h) => parseInt(h, 16))) : `:${escapeHtml(node.name)}:`;
    default: return richText(node.elements);
  }
}

function block(b, ctx) {
  switch (b.type) {
    case 'section': {
      const text = b.text ? `<div class="section-text">${textObject(b.text)}</div>` : '';
      const fields = b.fields ? `<div class="section-fields">${b.fields.map((f) => `<div>${textObject(f)}</div>`).join('')}</div>` : '';
      const accessory = b.accessory ? `<div class="section-accessory">${element(b.accessory, ctx, b.block_id)}</div>` : '';
      return `<div class="block block-section"><div class="section-main">${text}${fields}</div>${accessory}</div>`;
    }
    case 'header': return `<div class="block block-header">${textObject(b.text)}</div>`;
    case 'divider': return '<hr class="block block-divider">';
    case 'context':
      return `<div class="block block-context">${(b.elements ?? []).map((e) => (e.type === 'image' ? element(e, null) : `<span>${textObject(e)}</span>`)).join('')}</div>`;
    case 'actions':
      return `<div class="block block-actions">${(b.elements ?? []).map((e) => element(e, ctx, b.block_id)).join('')}</div>`;
    case 'image':
      return `<div class="block"><img class="block-image" src="${escapeHtml(b.image_url)}" alt="${escapeHtml(b.alt_text ?? '')}"></div>`;
    case 'markdown': return `<div class="block block-text">${mrkdwn(b.text)}</div>`;
    case 'rich_text': return `<div class="block block-rich">${richText(b.elements)}</div>`;
    default: return `<div class="block block-unsupported">[${escapeHtml(b.type)} block]</div>`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Messages, channels, threads

function channelName(id) {
  return ui.data?.channels.find((c) => c.id === id)?.name ?? id;
}

function initials(name) {
  return name.split(/[\s-]+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('');
}

/** One message; `inThread` hides the "N replies" line (the thread pane lists them); `role` is 'root' or 'reply' there. */
function message(m, channel, inThread, role = '') {
  const ctx = m.ephemeral ? null : { channel, messageTs: m.ts };
  const content = m.blocks && m.blocks.length ? m.blocks.map((b) => block(b, ctx)).join('') : `<div class="block block-text">${mrkdwn(m.text)}</div>`;
  const time = formatTime(new Date(m.sort * 1000));
  const classes = ['msg', m.bot ? 'bot' : 'person', m.ephemeral ? 'ephemeral' : '', role].filter(Boolean).join(' ');
  let footer = '';
  if (!inThread && m.replies && m.replies.length) {
    const last = m.replies[m.replies.length - 1];
    footer = `<button type="button" class="thread-link" data-thread="${escapeHtml(m.ts)}">${m.replies.length} ${m.replies.length === 1 ? 'reply' : 'replies'}</button><span class="muted"> Last reply ${formatTime(new Date(last.sort * 1000))}</span>`;
  }
  const broadcast = m.broadcast && !inThread
    ? `<div class="broadcast-note muted">replied to a thread · <button type="button" class="link-button" data-thread="${escapeHtml(m.threadTs)}">view thread</button></div>` : '';
  const ephemeral = m.ephemeral ? '<div class="ephemeral-note">👁 Only visible to you</div>' : '';
  return `<article class="${classes}" data-ts="${escapeHtml(m.ts)}">
    <div class="avatar ${m.bot ? 'avatar-bot' : ''}" aria-hidden="true">${escapeHtml(m.bot ? 'RC' : initials(m.userName))}</div>
    <div class="msg-body">
      <div class="msg-meta"><span class="msg-name">${escapeHtml(m.userName)}</span>${m.bot ? '<span class="app-badge">APP</span>' : ''}<span class="msg-time">${time}</span>${m.edited ? '<span class="muted"> (edited)</span>' : ''}</div>
      ${broadcast}${ephemeral}<div class="msg-content">${content}</div>${footer ? `<div class="msg-thread">${footer}</div>` : ''}
    </div>
  </article>`;
}

function countMessages(channel) {
  return channel.messages.reduce((n, m) => n + 1 + (m.replies ? m.replies.length : 0), 0);
}

function setHtml(key, el, html) {
  if (ui.html[key] === html) return false;
  ui.html[key] = html;
  const stick = ui.scrollToEnd || el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  el.innerHTML = html;
  if (stick) el.scrollTop = el.scrollHeight;
  return true;
}

function render() {
  const data = ui.data;
  if (!data) return;
  const channel = data.channels.find((c) => c.id === ui.channel) ?? data.channels[0];
  ui.channel = channel.id;
  ui.seen[channel.id] = countMessages(channel);

  setHtml('users', $('user-select'), data.users.map((u) => `<option value="${escapeHtml(u.id)}"${u.id === ui.user ? ' selected' : ''}>${escapeHtml(u.name)} (${escapeHtml(u.id)})</option>`).join(''));

  setHtml('channels', $('channel-list'), data.channels.map((c) => {
    const unread = Math.max(0, countMessages(c) - (ui.seen[c.id] ?? 0));
    const cls = [c.id === channel.id ? 'active' : '', unread ? 'unread' : ''].filter(Boolean).join(' ');
    return `<li><button type="button" class="${cls}" data-channel="${escapeHtml(c.id)}"><span># ${escapeHtml(c.name)}</span>${unread ? `<span class="badge">${unread}</span>` : ''}</button></li>`;
  }).join(''));

  setHtml('rollouts', $('rollout-list'), data.rollouts.map((r) => `<li class="rollout phase-${escapeHtml(r.phase.toLowerCase())}">
      <div><b>${escapeHtml(r.env)}</b>${r.errors ? ' <span class="errors-on" title="the app\'s simulated errors are on">errors on</span>' : ''} <span class="phase">${escapeHtml(r.phase)}</span></div>
      <div class="muted small"><code>${escapeHtml(r.tag)}</code>${r.revision ? ` · rev ${escapeHtml(r.revision)}` : ''}</div>
      ${r.detail ? `<div class="muted small detail" title="${escapeHtml(r.detail)}">${escapeHtml(r.detail)}</div>` : ''}
    </li>`).join(''));

  setHtml('notes', $('note-list'), data.notes.slice().reverse().map((n) => `<li title="${escapeHtml(n.text)}"><span class="muted">${formatTime(new Date(n.at))}</span> ${escapeHtml(n.text)}</li>`).join(''));

  $('channel-title').textContent = `# ${channel.name}`;
  $('channel-topic').textContent = `deploy threads of voting01 ${channel.env}`;
  const input = $('channel-input');
  input.placeholder = `Message #${channel.name} (try: /promote ${channel.env}, /rollout status ${channel.env})`;

  // Channel view: thread roots and broadcast replies, with this user's ephemerals in time order.
  const items = [...channel.messages, ...channel.ephemerals.filter((e) => !e.threadTs)].sort((a, b) => a.sort - b.sort);
  const empty = '<p class="empty muted">No messages yet: the bot opens a thread here when a deploy starts.</p>';
  setHtml(`messages`, $('messages'), items.length ? items.map((m) => message(m, channel.id, false)).join('') : empty);

  const pane = $('thread-pane');
  const root = ui.thread ? channel.messages.find((m) => m.ts === ui.thread && !m.threadTs) : undefined;
  if (!root) {
    ui.thread = null;
    pane.hidden = true;
    ui.scrollToEnd = false;
    return;
  }
  pane.hidden = false;
  $('thread-channel').textContent = `# ${channel.name}`;
  const replies = [...root.replies, ...channel.ephemerals.filter((e) => e.threadTs === root.ts)].sort((a, b) => a.sort - b.sort);
  const divider = `<div class="thread-divider muted">${root.replies.length} ${root.replies.length === 1 ? 'reply' : 'replies'}</div>`;
  setHtml('thread', $('thread-messages'), message(root, channel.id, true, 'root') + divider + replies.map((m) => message(m, channel.id, true, 'reply')).join(''));
  ui.scrollToEnd = false;
}

/** "Follow the deploy": a new deploy thread anywhere opens that channel and thread. */
function follow(data) {
  const roots = data.channels.flatMap((c) => c.messages.filter((m) => !m.threadTs).map((m) => ({ channel: c.id, ts: m.ts })));
  if (ui.knownRoots === null) {
    ui.knownRoots = new Set(roots.map((r) => `${r.channel}/${r.ts}`));
    // On first load, open the newest deploy thread.
    const newest = roots.sort((a, b) => Number(a.ts) - Number(b.ts)).at(-1);
    if (newest && $('follow').checked && !localStorage.getItem('sandbox.channel')) openThread(newest.channel, newest.ts);
    return;
  }
  for (const r of roots) {
    if (ui.knownRoots.has(`${r.channel}/${r.ts}`)) continue;
    ui.knownRoots.add(`${r.channel}/${r.ts}`);
    if ($('follow').checked) openThread(r.channel, r.ts);
  }
}

function openThread(channel, ts) {
  if (ui.channel !== channel || ui.thread !== ts) {
    ui.html = {};
    ui.scrollToEnd = true;
  }
  ui.channel = channel;
  ui.thread = ts;
  localStorage.setItem('sandbox.channel', channel);
}

// ---------------------------------------------------------------------------------------------------------------
// Talking to the sandbox

/**
 * The GitHub panel: each environment's latest deployment, `rollout-chatops/<env>` commit status and report check run
 * (its Markdown folded), then the chain's report.
 */
function renderGitHub(view) {
  const short = (sha) => escapeHtml(String(sha).slice(0, 7));
  const envs = view.environments.map((e) => {
    const d = e.deployment;
    const s = e.commitStatus;
    const head = `<div><b>${escapeHtml(e.env)}</b> <span class="state">${escapeHtml(d ? d.state : 'no deployment')}</span></div>`;
    const deployment = d
      ? `<div class="muted small"><code>${escapeHtml(d.tag || short(d.sha))}</code> · ${formatTime(new Date(d.at))}</div>
        <div class="muted small detail" title="${escapeHtml(d.description)}">${escapeHtml(d.description)}</div>`
      : '';
    const status = s
      ? `<div class="muted small commit-status" title="${escapeHtml(s.description)}">rollout-chatops/${escapeHtml(e.env)}: <span class="commit-state">${escapeHtml(s.state)}</span> on <code>${short(s.sha)}</code></div>`
      : '';
    const report = e.report ? reportHtml(e.report, 'Report check') : '';
    return `<li class="gh-env state-${escapeHtml(d ? d.state : 'none')}" data-env="${escapeHtml(e.env)}">${head}${deployment}${status}${report}</li>`;
  });
  const chain = view.chainReport
    ? `<li class="gh-env gh-chain" data-chain-report><div><b>${escapeHtml(view.chainReport.name.replace(/^rollout-chatops report: /, ''))}</b></div>${reportHtml(view.chainReport, 'Chain report check')}</li>`
    : '';
  setHtml('github', $('github-list'), envs.join('') + chain);
}

/** A report check run, folded: its conclusion, and its Markdown as GitHub received it (the Checks tab renders it). */
function reportHtml(r, label) {
  const open = ui.openReports.has(String(r.id)) ? ' open' : '';
  return `<details class="gh-report conclusion-${escapeHtml(r.conclusion)}" data-report="${escapeHtml(r.id)}"${open}>
    <summary title="${escapeHtml(r.title)}">${escapeHtml(label)}: <span class="check-conclusion">${escapeHtml(r.conclusion)}</span></summary>
    <pre class="report-text">${escapeHtml(r.text)}</pre></details>`;
}

let githubJson = '';
async function pollGitHub() {
  const res = await fetch('/api/github', { cache: 'no-store' });
  const text = await res.text();
  if (text === githubJson) return;
  githubJson = text;
  renderGitHub(JSON.parse(text));
}

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const res = await fetch(`/api/state?user=${encodeURIComponent(ui.user)}`, { cache: 'no-store' });
    const text = await res.text();
    if (text !== ui.lastJson) {
      ui.lastJson = text;
      ui.data = JSON.parse(text);
      for (const c of ui.data.channels) if (ui.seen[c.id] === undefined) ui.seen[c.id] = countMessages(c);
      follow(ui.data);
      render();
    }
    await pollGitHub();
    document.body.classList.remove('offline');
  } catch {
    document.body.classList.add('offline');
  } finally {
    polling = false;
  }
}

async function post(path, body) {
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok || answer.ok === false) toast(answer.error ? `Failed: ${answer.error}` : `The bot answered HTTP ${answer.status ?? res.status}`);
  } catch (err) {
    toast(`The sandbox is not answering (${err.message}); is it still running?`);
  }
  await poll();
  // The bot answers asynchronously (outbox, response_url); look again shortly instead of waiting a whole poll.
  setTimeout(poll, 300);
}

let toastTimer;
function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 5000);
}

function hint(id, text) {
  $(id).textContent = text;
}

async function sendFromChannel() {
  const input = $('channel-input');
  const text = input.value.trim();
  if (!text) return;
  if (!text.startsWith('/')) {
    hint('channel-hint', 'The bot listens to slash commands here (/promote, /rollout, /errors); to talk in a deploy thread, open it and reply there.');
    return;
  }
  hint('channel-hint', '');
  input.value = '';
  await post('/api/command', { user: ui.user, channel: ui.channel, text });
}

async function sendFromThread() {
  const input = $('thread-input');
  const text = input.value.trim();
  if (!text || !ui.thread) return;
  if (text.startsWith('/')) {
    // Slack's own rule, which is why the bot finds the deploy thread for slash commands itself.
    hint('thread-hint', 'Slash commands cannot be used in threads: type it in the channel box; the bot answers in this thread.');
    return;
  }
  hint('thread-hint', '');
  input.value = '';
  await post('/api/message', { user: ui.user, channel: ui.channel, threadTs: ui.thread, text });
}

/** Block Kit `confirm` dialog, shown before a button press is sent (as Slack does). */
function confirmAction(confirm) {
  if (!confirm) return Promise.resolve(true);
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = confirm.title?.text ?? 'Are you sure?';
  $('confirm-text').innerHTML = textObject(confirm.text);
  $('confirm-ok').textContent = confirm.confirm?.text ?? 'Yes';
  $('confirm-ok').className = confirm.style === 'danger' ? 'danger' : 'primary';
  $('confirm-deny').textContent = confirm.deny?.text ?? 'Cancel';
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.showModal();
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

function onEnter(textarea, send) {
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      void send();
    }
  });
}

document.addEventListener('click', async (e) => {
  const target = e.target instanceof Element ? e.target : null;
  if (!target) return;
  const channelButton = target.closest('#channel-list [data-channel]');
  if (channelButton) {
    ui.channel = channelButton.dataset.channel;
    ui.thread = null;
    localStorage.setItem('sandbox.channel', ui.channel);
    ui.html = {};
    ui.scrollToEnd = true;
    render();
    return;
  }
  const threadButton = target.closest('[data-thread]');
  if (threadButton) {
    openThread(ui.channel, threadButton.dataset.thread);
    render();
    return;
  }
  const permalink = target.closest('a[data-channel]');
  if (permalink) {
    // A link to a Slack message opens it here, not on example.slack.com.
    e.preventDefault();
    const channel = ui.data?.channels.find((c) => c.id === permalink.dataset.channel);
    const ts = permalink.dataset.ts;
    const hit = channel?.messages.find((m) => m.ts === ts);
    openThread(permalink.dataset.channel, hit?.threadTs ?? ts);
    render();
    return;
  }
  const action = target.closest('button[data-action]');
  if (action) {
    const a = JSON.parse(action.dataset.action);
    if (!(await confirmAction(a.confirm))) return;
    await post('/api/action', { user: ui.user, channel: a.channel, messageTs: a.messageTs, actionId: a.actionId, value: a.value, blockId: a.blockId });
  }
});

$('user-select').addEventListener('change', (e) => {
  ui.user = e.target.value;
  localStorage.setItem('sandbox.user', ui.user);
  void poll();
});
$('thread-close').addEventListener('click', () => {
  ui.thread = null;
  render();
});
$('push-button').addEventListener('click', () => void post('/api/push', {}));
// `toggle` does not bubble: caught on the way down, it remembers which reports are unfolded.
$('github-list').addEventListener('toggle', (e) => {
  const id = e.target instanceof HTMLDetailsElement ? e.target.dataset.report : undefined;
  if (id === undefined) return;
  if (e.target.open) ui.openReports.add(id);
  else ui.openReports.delete(id);
}, true);
$('channel-composer').addEventListener('submit', (e) => {
  e.preventDefault();
  void sendFromChannel();
});
$('thread-composer').addEventListener('submit', (e) => {
  e.preventDefault();
  void sendFromThread();
});
onEnter($('channel-input'), sendFromChannel);
onEnter($('thread-input'), sendFromThread);

void poll();
setInterval(poll, POLL_MS);
