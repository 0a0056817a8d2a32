// The playground page: waits for changes and redraws, and sends what the person does to the
// page's server (which signs it and posts it to the bot as Slack would). No build step.
"use strict";

const body = document.body;
const me = body.dataset.as;
const view = body.dataset.view;
let version = body.dataset.version;
let modalKey = body.dataset.modalKey || "";

const $ = (selector, root = document) => root.querySelector(selector);

// Whether this machine draws emoji in colour: an emoji drawn on a canvas has coloured pixels;
// drawn without a colour emoji font it is grey or a box. Without one, every emoji the page
// marks shows its :name: instead (app.css, `.no-colour-emoji`), as Slack shows one it lacks.
function colourEmoji() {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 24;
  const pen = canvas.getContext("2d", { willReadFrequently: true });
  if (!pen) return true;
  pen.textBaseline = "top";
  pen.font = "20px sans-serif";
  pen.fillStyle = "#000";
  pen.fillText("\u{1F389}", 0, 0);
  const dots = pen.getImageData(0, 0, 24, 24).data;
  for (let i = 0; i < dots.length; i += 4) {
    if (dots[i + 3] && (dots[i] !== dots[i + 1] || dots[i + 1] !== dots[i + 2])) return true;
  }
  return false;
}
if (!colourEmoji()) document.documentElement.classList.add("no-colour-emoji");

function toast(text, isError) {
  const box = $("#toast");
  box.textContent = text;
  box.className = isError ? "toast error" : "toast";
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 5000);
}

async function post(path, data) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: me, ...data }),
  });
  let answer = {};
  try { answer = await response.json(); } catch (err) { answer = {}; }
  if (!response.ok || answer.ok === false) {
    toast(answer.error || `The page's server answered ${response.status}.`, true);
    return null;
  }
  if (answer.notice) toast(answer.notice, false);
  refresh();
  return answer;
}

// ── live updates ─────────────────────────────────────────────────────────────────────────

function nearBottom(list) {
  return !list || list.scrollHeight - list.scrollTop - list.clientHeight < 80;
}

function scrollDown() {
  const list = $("#messages");
  if (list) list.scrollTop = list.scrollHeight;
}

let refreshing = null;
async function refresh() {
  if (!me) return;
  if (refreshing) { refreshing.again = true; return; }
  refreshing = { again: false };
  try {
    const query = new URLSearchParams({ as: me, view });
    const response = await fetch(`/ui/pane?${query}`);
    if (!response.ok) return;
    const pane = await response.json();
    const list = $("#messages");
    const stick = nearBottom(list);
    const keep = list ? list.scrollTop : 0;
    const choices = [...document.querySelectorAll("#main form select")].map((s) => s.value);
    $("#sidebar").innerHTML = pane.sidebar;
    $("#main").innerHTML = pane.main;
    document.querySelectorAll("#main form select").forEach((select, at) => {
      if (choices[at] !== undefined) select.value = choices[at];
    });
    const fresh = $("#messages");
    if (fresh) { if (stick) scrollDown(); else fresh.scrollTop = keep; }
    if (pane.modal_key !== modalKey) {
      const before = $("#modal form.modal");
      const active = document.activeElement;
      const focused = before && before.contains(active) ? active : null;
      const list = focused && focused.matches(".ext-search")
        ? $(".ext-list", focused.closest(".ext-select")) : null;
      const searching = Boolean(list && (!list.hidden || list.getAttribute("aria-busy") === "true"));
      $("#modal").innerHTML = pane.modal;
      modalKey = pane.modal_key;
      const after = $("#modal form.modal");
      const same = Boolean(before && after && before.dataset.viewId === after.dataset.viewId);
      if (same) keepEntries(before, after);
      const again = same && focused && focused.id ? document.getElementById(focused.id) : null;
      const first = $("#modal .has-error .field") || (same ? again : $("#modal .field"));
      if (first) focusField(first);
      // A search being typed when the form was redrawn goes on in the new form.
      if (searching && again && first === again && again.matches(".ext-search")) {
        again.value = focused.value;
        again.placeholder = focused.placeholder;
        searchExternal(again.closest(".ext-select"), true);
      }
    }
    document.title = `${pane.title} · Slack playground`;
    version = pane.version;
  } finally {
    const again = refreshing.again;
    refreshing = null;
    if (again) refresh();
  }
}

let quietFocus = false; // the page moving the focus opens no search list

function focusField(field) {
  const box = field.matches(".picker-box") ? $(".picker-search", field) : field;
  quietFocus = true;
  try { box.focus(); } finally { quietFocus = false; }
  if (typeof box.value === "string" && box.setSelectionRange && box.type !== "radio"
      && box.type !== "checkbox" && box.tagName !== "SELECT") {
    box.setSelectionRange(box.value.length, box.value.length);
  }
}

// A form the bot updated (views.update, same view) keeps what the person typed or picked in
// the inputs that have the same block_id and action_id, as Slack keeps them.
function keepEntries(before, after) {
  const key = (field) => `${field.dataset.blockId}\u0000${field.dataset.actionId}`;
  const old = new Map();
  for (const field of before.querySelectorAll("[data-input]")) {
    if (!old.has(key(field))) old.set(key(field), []);
    old.get(key(field)).push(field);
  }
  for (const field of after.querySelectorAll("[data-input]")) {
    const was = old.get(key(field));
    if (!was || was[0].dataset.input !== field.dataset.input) continue;
    if (field.type === "radio" || field.type === "checkbox") {
      field.checked = was.some((w) => w.value === field.value && w.checked);
    } else if (field.classList.contains("picker")) {
      for (const chip of field.querySelectorAll(".chip")) chip.remove();
      const search = $(".picker-search", field);
      for (const chip of was[0].querySelectorAll(".chip")) search.before(chip.cloneNode(true));
      search.value = $(".picker-search", was[0]).value;
      updatePicker(field, false);
    } else if (field.classList.contains("ext-select")) {
      field.dataset.value = was[0].dataset.value || "";
      field.dataset.label = was[0].dataset.label || "";
      $(".ext-search", field).value = field.dataset.label;
    } else if (field.tagName === "SELECT") {
      if ([...field.options].some((o) => o.value === was[0].value)) field.value = was[0].value;
    } else {
      field.value = was[0].value;
    }
  }
}

async function waitForChanges() {
  for (;;) {
    try {
      const response = await fetch(`/ui/wait?since=${encodeURIComponent(version)}`);
      const answer = await response.json();
      if (answer.version !== version) await refresh();
    } catch (err) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

// ── searching for people: the composer's @-autocomplete and the form's people picker ─────

// Show the options of `list` that match `query` (a name or handle starting with it); the
// first is active. Returns how many match.
function filterOptions(list, query, skip) {
  const words = query.toLowerCase();
  let shown = 0;
  for (const option of list.querySelectorAll(".picker-option")) {
    const match = !skip.has(option.dataset.value)
      && (option.dataset.search.startsWith(words)
        || option.dataset.search.split(" ").some((word) => word.startsWith(words)))
      && shown < 8;
    option.hidden = !match;
    option.setAttribute("aria-selected", "false");
    if (match) shown += 1;
  }
  const none = list.querySelector(".picker-none");
  if (none) none.hidden = shown > 0;
  const first = list.querySelector(".picker-option:not([hidden])");
  if (first) first.setAttribute("aria-selected", "true");
  return shown;
}

function openList(input, list, open) {
  list.hidden = !open;
  input.setAttribute("aria-expanded", String(open));
}

function activeOption(list) {
  return list.querySelector(".picker-option[aria-selected=true]:not([hidden])");
}

function moveActive(list, step) {
  const options = [...list.querySelectorAll(".picker-option:not([hidden])")];
  if (!options.length) return;
  const at = options.indexOf(activeOption(list));
  const next = options[(at + step + options.length) % options.length];
  for (const option of options) option.setAttribute("aria-selected", String(option === next));
  next.scrollIntoView({ block: "nearest" });
}

// The composer: typing @ and the start of a name lists the people it could be.
function mentionQuery(input) {
  const before = input.value.slice(0, input.selectionStart);
  const found = /(^|\s)@([\w.-]*)$/.exec(before);
  return found ? { query: found[2], start: before.length - found[2].length - 1 } : null;
}

function updateMentions() {
  const input = $("#composer-input");
  const list = $("#mention-list");
  if (!input || !list) return;
  const asked = mentionQuery(input);
  openList(input, list, Boolean(asked) && filterOptions(list, asked.query, new Set()) > 0);
}

// Replace the @-word being typed with the person's handle, which the page's server sends to
// the bot as Slack's mention of them (<@U…|handle>).
function chooseMention(option) {
  const input = $("#composer-input");
  const asked = mentionQuery(input);
  if (!asked) return;
  const mention = `@${option.dataset.handle} `;
  const after = input.value.slice(input.selectionStart).replace(/^\S*\s?/, "");
  input.value = input.value.slice(0, asked.start) + mention + after;
  const caret = asked.start + mention.length;
  input.setSelectionRange(caret, caret);
  openList(input, $("#mention-list"), false);
  input.focus();
}

// The form's people picker: a search box that lists matches; a pick becomes a chip. This
// filters the list by what is typed and opens it (or keeps it open) when `open`; it closes
// once the focus has left the picker.
function updatePicker(picker, open) {
  const input = $(".picker-search", picker);
  const list = $(".picker-list", picker);
  const picked = new Set([...picker.querySelectorAll(".chip")].map((c) => c.dataset.value));
  filterOptions(list, input.value.trim(), picked);
  input.placeholder = picked.size ? "" : input.dataset.placeholder;
  const focused = picker.contains(document.activeElement);
  openList(input, list, focused && (open || !list.hidden));
}

function pickPerson(picker, option) {
  const chip = document.createElement("span");
  chip.className = "chip";
  chip.dataset.value = option.dataset.value;
  const name = $(".picker-name", option).textContent;
  chip.textContent = name;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "chip-x";
  remove.setAttribute("aria-label", `Remove ${name}`);
  remove.textContent = "×";
  chip.append(remove);
  const input = $(".picker-search", picker);
  input.before(chip);
  input.value = "";
  input.focus();
  updatePicker(picker, true);
}

document.addEventListener("input", (event) => {
  if (event.target.id === "composer-input") updateMentions();
  const picker = event.target.closest(".picker");
  if (picker) updatePicker(picker, true);
  if (event.target.matches(".ext-search")) searchExternal(event.target.closest(".ext-select"), false);
});

document.addEventListener("focusin", (event) => {
  if (event.target.matches(".ext-search") && !quietFocus) {
    openExternal(event.target.closest(".ext-select"));
  }
});

document.addEventListener("focusout", (event) => {
  if (event.target.id === "composer-input") openList(event.target, $("#mention-list"), false);
  const box = event.target.closest(".ext-select");
  if (box) {
    setTimeout(() => { if (!box.contains(document.activeElement)) closeExternal(box); }, 0);
    return;
  }
  const picker = event.target.closest(".picker");
  if (!picker) return;
  setTimeout(() => { if (!picker.contains(document.activeElement)) updatePicker(picker, false); }, 0);
});

// Keys in a search list: ↑/↓ move, Enter or Tab picks, Escape closes the list only.
document.addEventListener("keydown", (event) => {
  const input = event.target;
  const list = input.id === "composer-input" ? $("#mention-list")
    : input.matches(".picker-search") ? $(".picker-list", input.closest(".picker"))
      : input.matches(".ext-search") ? $(".ext-list", input.closest(".ext-select")) : null;
  if (!list) return;
  if (input.matches(".picker-search") && event.key === "Backspace" && !input.value) {
    const chips = input.closest(".picker").querySelectorAll(".chip");
    if (chips.length) chips[chips.length - 1].remove();
    updatePicker(input.closest(".picker"), true);
    return;
  }
  // Enter in the picker's search never sends the form, whatever the list shows.
  if (event.key === "Enter" && input.matches(".picker-search, .ext-search")) event.preventDefault();
  if (list.hidden && input.matches(".ext-search") && event.key === "ArrowDown") {
    event.preventDefault();
    openExternal(input.closest(".ext-select"));
    return;
  }
  if (list.hidden) return;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    moveActive(list, event.key === "ArrowDown" ? 1 : -1);
  } else if (event.key === "Enter" || (event.key === "Tab" && activeOption(list))) {
    const option = activeOption(list);
    if (!option) return;
    event.preventDefault();
    event.stopPropagation();
    if (input.id === "composer-input") chooseMention(option);
    else if (input.matches(".ext-search")) pickExternal(input.closest(".ext-select"), option);
    else pickPerson(input.closest(".picker"), option);
  } else if (event.key === "Escape") {
    event.stopPropagation();
    if (input.matches(".ext-search")) closeExternal(input.closest(".ext-select"));
    else openList(input, list, false);
  }
}, true);

document.addEventListener("mousedown", (event) => {
  const option = event.target.closest(".picker-option");
  if (!option) return;
  event.preventDefault(); // keep the focus in the box
  if (option.closest("#mention-list")) chooseMention(option);
  else if (option.closest(".ext-select")) pickExternal(option.closest(".ext-select"), option);
  else pickPerson(option.closest(".picker"), option);
});

// An external select: its options come from the bot (block_suggestion, through the page's
// server) for what is typed, once min_query_length characters are; only the latest search's
// answer is shown. A pick shows in the box and, with dispatch_action, is sent at once.
const searches = new WeakMap(); // box -> {asked, timer}

function searchOf(box) {
  if (!searches.has(box)) searches.set(box, { asked: 0, timer: null });
  return searches.get(box);
}

function showOptions(box, options, note) {
  const list = $(".ext-list", box);
  list.replaceChildren();
  for (const found of options) {
    const item = document.createElement("li");
    item.setAttribute("role", "option");
    item.className = "picker-option";
    item.dataset.value = found.value;
    item.textContent = found.text;
    item.setAttribute("aria-selected", "false");
    list.append(item);
  }
  if (!options.length) {
    const none = document.createElement("li");
    none.className = "picker-none muted";
    none.textContent = note;
    list.append(none);
  }
  const first = $(".picker-option", list);
  if (first) first.setAttribute("aria-selected", "true");
  list.setAttribute("aria-busy", "false");
  const input = $(".ext-search", box);
  openList(input, list, document.activeElement === input);
}

async function suggest(box, query, asked) {
  const least = Number(box.dataset.minQuery || 0);
  if (query.length < least) {
    showOptions(box, [], `Type ${least - query.length} more character${least - query.length === 1 ? "" : "s"}`);
    return;
  }
  const form = box.closest("form.modal");
  let answer = null;
  try {
    const response = await fetch("/ui/suggest", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        as: me, view_id: form.dataset.viewId, action_id: box.dataset.actionId, value: query,
      }),
    });
    answer = await response.json();
    if (!response.ok || answer.ok === false) {
      toast(answer.error || `The page's server answered ${response.status}.`, true);
      answer = null;
    }
  } catch (err) {
    toast("The page's server did not answer the search.", true);
  }
  if (asked !== searchOf(box).asked || !box.isConnected) return; // a later search, or redrawn
  if (answer && answer.notice) toast(answer.notice, false);
  showOptions(box, answer ? answer.options : [], answer ? "No results" : "Couldn't load options");
}

function searchExternal(box, now) {
  const search = searchOf(box);
  search.asked += 1;
  const asked = search.asked;
  $(".ext-list", box).setAttribute("aria-busy", "true");
  clearTimeout(search.timer);
  const query = $(".ext-search", box).value;
  if (now) suggest(box, query, asked);
  else search.timer = setTimeout(() => suggest(box, query, asked), 150);
}

function openExternal(box) {
  const input = $(".ext-search", box);
  input.value = "";
  input.placeholder = box.dataset.label || input.dataset.placeholder;
  searchExternal(box, true);
}

function closeExternal(box) {
  const input = $(".ext-search", box);
  clearTimeout(searchOf(box).timer);
  searchOf(box).asked += 1;
  const list = $(".ext-list", box);
  list.setAttribute("aria-busy", "false");
  openList(input, list, false);
  input.value = box.dataset.label || "";
  input.placeholder = input.dataset.placeholder;
}

async function pickExternal(box, option) {
  box.dataset.value = option.dataset.value;
  box.dataset.label = option.textContent;
  closeExternal(box);
  $(".ext-search", box).select(); // typing again replaces the pick's name
  if (box.hasAttribute("data-dispatch")) await dispatch(box, option.dataset.value);
}

// ── what the person does ─────────────────────────────────────────────────────────────────

function containerOf(element) {
  const box = element.closest("[data-container]");
  if (!box) return {};
  if (box.dataset.container === "view") return { type: "view", view_id: box.dataset.viewId };
  return {
    type: "message",
    channel: box.dataset.channel,
    ts: box.dataset.ts,
    ephemeral: Boolean(box.dataset.ephemeral),
  };
}

function formValues(form) {
  const values = {};
  for (const field of form.querySelectorAll("[data-input]")) {
    const block = field.dataset.blockId;
    const action = field.dataset.actionId;
    values[block] = values[block] || {};
    if (field.classList.contains("picker")) {
      values[block][action] = [...field.querySelectorAll(".chip")].map((c) => c.dataset.value);
    } else if (field.classList.contains("ext-select")) {
      values[block][action] = field.dataset.value || "";
    } else if (field.type === "file") {
      values[block][action] = field.upload || null;  // read when picked (see "change")
    } else if (field.type === "checkbox") {
      values[block][action] = values[block][action] || [];
      if (field.checked) values[block][action].push(field.value);
    } else if (field.type === "radio") {
      if (field.checked || !(action in values[block])) {
        values[block][action] = field.checked ? field.value : "";
      }
    } else {
      values[block][action] = field.value;
    }
  }
  return values;
}

// A picked file as the page sends it: its name and its bytes in base64.
async function readFile(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return { name: file.name, content_b64: btoa(binary) };
}

function confirmFirst(element) {
  const spec = element.dataset.confirm;
  if (!spec) return Promise.resolve(true);
  const dialog = JSON.parse(spec);
  const host = $("#dialog");
  host.innerHTML = `<div class="overlay"><div class="modal confirm" role="dialog">
    <header class="modal-head"><h2></h2></header><div class="modal-body"></div>
    <footer class="modal-foot"><button type="button" class="btn" data-answer="no"></button>
    <button type="button" class="btn" data-answer="yes"></button></footer></div></div>`;
  $("h2", host).textContent = dialog.title;
  $(".modal-body", host).innerHTML = dialog.text; // rendered and escaped by the server
  $("[data-answer=no]", host).textContent = dialog.deny;
  const yes = $("[data-answer=yes]", host);
  yes.textContent = dialog.confirm;
  yes.classList.add(dialog.style === "danger" ? "btn-danger" : "btn-primary");
  return new Promise((resolve) => {
    host.onclick = (event) => {
      const answer = event.target.closest("[data-answer]");
      if (!answer) return;
      host.innerHTML = "";
      resolve(answer.dataset.answer === "yes");
    };
  });
}

async function busy(element, work) {
  element.disabled = true;
  try { return await work(); } finally { element.disabled = false; }
}

// A pick in a select (an actions block, or an input block with dispatch_action) is a
// block_actions at once; in a form it carries the form's state, as Slack sends it.
function dispatch(element, value) {
  const form = element.closest("form.modal");
  return post("/ui/action", {
    container: containerOf(element),
    action_id: element.dataset.actionId,
    block_id: element.dataset.blockId,
    value,
    values: form ? formValues(form) : undefined,
  });
}

function closeMenus(except) {
  for (const menu of document.querySelectorAll(".menu")) {
    if (menu !== except) menu.hidden = true;
  }
}

function showNav(open) {
  body.classList.toggle("nav-open", open);
  $("#nav-toggle").setAttribute("aria-expanded", String(open));
}

document.addEventListener("click", async (event) => {
  const target = event.target;
  const unpick = target.closest(".chip-x");
  if (unpick) {
    const picker = unpick.closest(".picker");
    unpick.closest(".chip").remove();
    $(".picker-search", picker).focus();
    updatePicker(picker, false);
    return;
  }
  if (target.matches(".ext-search")) {
    const box = target.closest(".ext-select");
    const list = $(".ext-list", box);
    if (list.hidden && list.getAttribute("aria-busy") !== "true") openExternal(box);
    return;
  }
  if (target.closest(".picker-box")) {
    const picker = target.closest(".picker");
    $(".picker-search", picker).focus();
    updatePicker(picker, true);
    return;
  }
  if (target.closest("#nav-toggle")) {
    showNav(!body.classList.contains("nav-open"));
    return;
  }
  if (body.classList.contains("nav-open") && !target.closest("#sidebar")) showNav(false);
  const toggle = target.closest(".more, #shortcuts-button");
  if (toggle) {
    const menu = toggle.parentElement.querySelector(".menu");
    closeMenus(menu);
    menu.hidden = !menu.hidden;
    return;
  }
  if (!target.closest(".menu")) closeMenus(null);

  const reaction = target.closest("[data-react]");
  if (reaction) {
    await busy(reaction, () => post("/ui/react", {
      name: reaction.dataset.react,
      container: containerOf(reaction),
    }));
    return;
  }
  const shortcut = target.closest("[data-shortcut], [data-global-shortcut]");
  if (shortcut) {
    closeMenus(null);
    const callback = shortcut.dataset.shortcut || shortcut.dataset.globalShortcut;
    await post("/ui/shortcut", { callback_id: callback, container: containerOf(shortcut) });
    return;
  }
  const button = target.closest("[data-kind=button]");
  if (button) {
    if (!(await confirmFirst(button))) return;
    if (button.dataset.url) window.open(button.dataset.url, "_blank", "noopener");
    const form = button.closest("form.modal");
    await busy(button, () => post("/ui/action", {
      container: containerOf(button),
      action_id: button.dataset.actionId,
      block_id: button.dataset.blockId,
      values: form ? formValues(form) : undefined,
    }));
    return;
  }
  const close = target.closest("[data-close]");
  if (close) {
    const form = close.closest("form.modal");
    await post("/ui/close", { view_id: form.dataset.viewId });
    return;
  }
  const clear = target.closest("[data-clear-fault]");
  if (clear) {
    const operations = clear.dataset.clearFault;
    await busy(clear, () => post("/ui/sandbox/faults/clear",
      operations ? { operations: operations.split(",") } : {}));
    return;
  }
  const jump = target.closest("[data-jump]");
  if (jump) {
    await busy(jump, () => post("/ui/clock", { jump: jump.dataset.jump }));
    return;
  }
  const job = target.closest("[data-run-job]");
  if (job) {
    const answer = await busy(job, () => post("/ui/jobs/run", { name: job.dataset.runJob }));
    const line = job.closest(".job").querySelector(".job-result");
    if (answer && line) line.textContent = answer.result;
  }
});

document.addEventListener("change", async (event) => {
  const target = event.target;
  if (target.id === "who") {
    const query = new URLSearchParams({ as: target.value });
    if (view) query.set("view", view);
    window.location.href = `/?${query}`;
    return;
  }
  if (target.type === "file") {  // read now: the form sends it when submitted
    target.upload = null;
    const file = target.files && target.files[0];
    target.reading = file ? readFile(file).then((upload) => { target.upload = upload; })
      : Promise.resolve();
    return;
  }
  if (target.matches("select.action-select") && target.value) {
    await dispatch(target, target.value);
    return;
  }
  if (target.matches("[data-dispatch]") && (target.tagName === "SELECT" || target.type === "radio")
      && target.value) {
    await dispatch(target, target.value);
  }
});

document.addEventListener("submit", async (event) => {
  const form = event.target;
  event.preventDefault();
  if (form.id === "composer") {
    const input = $("#composer-input");
    const text = input.value;
    if (!text.trim()) return;
    const sent = form.querySelector("[type=submit]");
    const answer = await busy(sent, () => post("/ui/send", { view: form.dataset.view, text }));
    if (answer) input.value = "";
    input.focus();
    return;
  }
  if (form.id === "fault-form") {
    const submit = form.querySelector("[type=submit]");
    const data = Object.fromEntries(new FormData(form));
    await busy(submit, () => post("/ui/sandbox/faults", data));
    return;
  }
  if (form.matches("form.modal")) {
    const submit = form.querySelector("[type=submit]");
    await Promise.all([...form.querySelectorAll("input[type=file]")].map((f) => f.reading));
    await busy(submit, () => post("/ui/submit", {
      view_id: form.dataset.viewId,
      values: formValues(form),
    }));
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  closeMenus(null);
  const close = $("#modal [data-close]");
  if (close && !$("#dialog .overlay")) close.click();
});

scrollDown();
if (me) waitForChanges();
