#!/usr/bin/env python3
"""The reading list's web page (`tinglado serve --library DB`), end to end.

A loopback HTTP server plays the web: it serves a few of Readability's real
test pages (tests/read/shared_fixtures.py), a hostile page, and a canary
path that counts every request reaching it.  Against `tinglado serve
--library` (no generative model), this checks:

  1. in headless Chromium (Debian chromium + chromium-driver, PyPI selenium):
     the page loads; the bookmarklet is a javascript: link to this server's
     ?add=, which fills the add form without saving; a URL typed into the add form is fetched and extracted
     by the server's worker and shows up in the list; searching a distinctive
     run of 8 words of that page (from Readability's expected text) lists it
     first; opening it shows the right title and the text in the article
     frame; tagging, favouriting and archiving from the article view are
     stored; a screenshot is saved ($TG_SCREENSHOT, else a temp dir);
  2. inert article HTML: an item whose stored HTML is raw hostile markup
     (written into the database behind the sanitiser's back: <script>,
     onerror, javascript: links, <svg onload>, <iframe srcdoc>, CSS url(),
     <base>, <object>, <form>, meta refresh …) and one that went through the
     real pipeline, both with a hostile title, are opened and every link and
     button in the frame clicked: the canary gets no request and no flag is
     set in any window — while the same payloads served raw (the control)
     do hit the canary, so the check can fail;
  3. over plain HTTP: security headers on every answer, JSON errors for bad
     ids, filters, bodies and sizes, the CSRF rule (header, content type,
     Origin), the Host rule without a key, and with --api-key: the page's
     login (cookie HttpOnly + SameSite=Strict), Bearer keys, wrong keys;
     a non-loopback --host without a key is refused; SIGTERM stops cleanly;
  4. with --embedding-model (MiniLM converted from the cache): the worker
     embeds each article's passages and the page's search is hybrid:
     paraphrased questions sharing almost no words with their page find it
     first; /v1/embeddings works without -m, /v1/chat says no_model;
  5. with -m (the default model): the worker enriches the article it
     extracted (summary, 3-7 tags), and a question typed into the ask box
     gets an answer whose citations are that article and open it.
"""
import http.client
import http.server
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "read"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import shared_fixtures  # noqa: E402
import extract_quality as q  # noqa: E402  (HTML-to-text and title normalisation)

BIN = os.environ.get("TINGLADO_BIN") or os.path.join(ROOT, "build", "rel", "tinglado")
REL_BIN = os.environ.get("TINGLADO_REL_BIN") or BIN
MODEL = "gemma-3-270m-q4_k_m"  # the default model, in the cache after scripts/setup.sh
PAGES = ["bbc-1", "quanta-1", "wapo-1"]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what)
    return cond


# ---- the fake web ---------------------------------------------------------------

CANARY_HITS = []
OK_HITS = []  # the ordinary link: it must open, in a new tab


def payloads(canary):
    """Markup that runs code or loads the canary if anything lets it; each
    sets window.__pwned (its own, its parent's, the top's) and fetches
    canary/<name>."""
    def js(name):
        return (f"top.__pwned=parent.__pwned=window.__pwned='{name}';"
                f"fetch('{canary}/{name}');new Image().src='{canary}/{name}-img'")
    return "\n".join([
        f"<p>Hostile fixture paragraph with enough words to be an article, and commas, and more words.</p>",
        f"<script>{js('script')}</script>",
        f"<img src=x onerror=\"{js('onerror')}\">",
        f"<p><a id=jslink href=\"javascript:{js('jshref')}\">a javascript: link</a></p>",
        f"<p><a href=\"JaVaScRiPt:{js('jshref2')}\" target=_top>another, aimed at the top</a></p>",
        f"<p><a href=\"data:text/html,<script>{js('datahref')}</script>\">a data: link</a></p>",
        f"<svg onload=\"{js('svg')}\"><rect width=10 height=10 /></svg>",
        f"<iframe srcdoc=\"<script>{js('srcdoc')}</script>\"></iframe>",
        f"<iframe src=\"javascript:{js('iframejs')}\"></iframe>",
        f"<div style=\"background:url({canary}/style-attr)\">styled div</div>",
        f"<style>@import url({canary}/import); body {{ background: url({canary}/style-elem) }}</style>",
        f"<link rel=stylesheet href=\"{canary}/link\">",
        f"<base href=\"{canary}/base/\"><img src=\"relative.png\">",
        f"<object data=\"{canary}/object\"></object><embed src=\"{canary}/embed\">",
        f"<form action=\"{canary}/form\" method=get><button id=formbtn>submit</button></form>",
        f"<meta http-equiv=refresh content=\"0;url={canary}/refresh\">",
        f"<details open ontoggle=\"{js('details')}\"><summary>s</summary>d</details>",
        f"<input autofocus onfocus=\"{js('autofocus')}\">",
        f"<video><source onerror=\"{js('video')}\"></video>",
        f"<body onload=\"{js('bodyload')}\">",
        f"<p><a id=oklink href=\"{canary.rsplit('/', 1)[0]}/ok-link/\">an ordinary link</a></p>",
        f"<p>Zanzibar quokka marmalade is the distinctive phrase of the hostile page, indeed.</p>",
    ])


def hostile_title(canary):
    # text that becomes markup only if the page ever uses innerHTML
    return f"Hostile <img src={canary}/title onerror=\"top.__pwned='title'\"> page"


class Web(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body, ctype="text/html; charset=utf-8"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        canary = f"http://127.0.0.1:{self.server.server_address[1]}/canary"
        p = self.path
        if p.startswith("/canary"):
            CANARY_HITS.append(p)
            return self.send(404, b"")
        if p == "/ok-link/":
            OK_HITS.append(p)
            return self.send(200, b"<p>an ordinary page</p>")
        if p == "/hostile/":  # through the real pipeline (fetch, extract, sanitise)
            t = hostile_title(canary).replace("<", "&lt;").replace(">", "&gt;")
            body = f"<html><head><title>{t}</title></head><body><article>{payloads(canary)}" \
                   f"<p>{'More article text, with commas, to look like prose. ' * 20}</p></article></body></html>"
            return self.send(200, body.encode())
        if p == "/control/":  # the same payloads, no sandbox, no CSP: they must fire
            return self.send(200, f"<html><body>{payloads(canary)}</body></html>".encode())
        m = re.match(r"^/([A-Za-z0-9._-]+)/$", p)
        body = shared_fixtures.page_source(m.group(1)) if m else None
        if body is not None:
            return self.send(200, body)
        return self.send(404, b"no such page")

    do_POST = do_GET


# ---- the server under test ---------------------------------------------------------

class Server:
    def __init__(self, db, *extra, bin=BIN):
        self.log = os.path.join(os.path.dirname(db), f"access-{os.getpid()}-{time.time_ns()}.log")
        self.p = subprocess.Popen([bin, "serve", "--library", db, "--port", "0", "--access-log", self.log, *extra],
                                  stderr=subprocess.PIPE, text=True,
                                  env=dict(os.environ, TINGLADO_HOST_DELAY="0"))
        self.err = []
        self.port = None
        got = threading.Event()

        def read():
            for line in self.p.stderr:
                self.err.append(line)
                m = re.search(r"listening on http://[^ ]*:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    got.set()
            got.set()
        threading.Thread(target=read, daemon=True).start()
        got.wait(60)
        if not self.port:
            raise SystemExit(f"server did not start: {''.join(self.err)[-2000:]}")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "hung"
        time.sleep(0.2)
        check(rc == 0 and any("stopped" in ln for ln in self.err),
              f"SIGTERM: a clean stop (exit {rc}): {''.join(self.err)[-1500:]}")

    def request(self, method, path, body=None, headers=None, csrf=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if method == "POST" and csrf:
            h.setdefault("X-Tinglado-CSRF", "1")
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        try:
            j = json.loads(data) if data else None
        except ValueError:
            j = None
        return r.status, j, r.headers, data

    def wait_item(self, item_id, states=("extracted", "enriched", "failed"), timeout=180, enriching=False):
        """The item once in one of `states`; None after the timeout, or (with
        enriching) as soon as the worker rests with the item still extracted:
        its enrichment failed (the reason is on the server's stderr)."""
        t0 = time.time()
        while time.time() - t0 < timeout:
            st, j, _, _ = self.request("GET", f"/library/api/items/{item_id}")
            if st == 200 and j["state"] in states:
                return j
            if enriching and j and j["state"] == "extracted":
                s = self.request("GET", "/library/api/status")[1]
                if not s["worker"]["busy"]:
                    time.sleep(1)
                    j = self.request("GET", f"/library/api/items/{item_id}")[1]
                    if j["state"] == "extracted":
                        print("  server:", "".join(ln for ln in self.err if "enrich" in ln)[-800:])
                        return j
            time.sleep(0.5)
        return None


def expected_words(name):
    with open(os.path.join(shared_fixtures.readability_dir(), name, "expected.html"), encoding="utf-8") as f:
        return re.findall(r"\w+", q.html_text(f.read()).lower())


def distinctive_phrase(name, others):
    words = expected_words(name)
    joined = [" " + " ".join(expected_words(o)) + " " for o in others]
    for k in range(int(len(words) * 0.4), len(words) - 7):
        cand = " ".join(words[k:k + 8])
        if len(cand) > 30 and not any(" " + cand + " " in j for j in joined):
            return cand
    raise SystemExit(f"no distinctive phrase in {name}")


def expected_title(name):
    with open(os.path.join(shared_fixtures.readability_dir(), name, "expected-metadata.json"), encoding="utf-8") as f:
        return json.load(f)["title"]


# ---- 1 and 2: the browser -------------------------------------------------------------

def browser():
    from selenium import webdriver
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--disable-gpu", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    return webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))


def wait_for(fn, timeout, what):
    t0 = time.time()
    last = None
    while time.time() - t0 < timeout:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # an element replaced while we looked: look again
            last = e
        time.sleep(0.3)
    check(False, f"timed out waiting for {what} (last: {last!r})")
    return None


def browser_tests(srv, web_port, db, shot):
    from selenium.webdriver.common.by import By
    base = f"http://127.0.0.1:{srv.port}/library/"
    fix = f"http://127.0.0.1:{web_port}"
    d = browser()
    try:
        # ---- the bookmarklet: a javascript: link that opens ?add=<the page's URL>, which fills the form
        d.get(base + "?add=" + urllib.parse.quote(f"{fix}/{PAGES[0]}/", safe=""))
        wait_for(lambda: d.find_element(By.ID, "app").is_displayed(), 30, "the page")
        href = urllib.parse.unquote(d.find_element(By.ID, "bookmarklet").get_attribute("href") or "")
        check(href.startswith("javascript:") and f"'http://127.0.0.1:{srv.port}/library/?add='" in href
              and "encodeURIComponent(location.href)" in href, f"bookmarklet link: {href!r}")
        check(d.find_element(By.ID, "add-url").get_attribute("value") == f"{fix}/{PAGES[0]}/",
              "?add= fills the add form (saving still takes the Save button)")
        st, j, _, _ = srv.request("GET", "/library/api/status")
        check(j["total"] == 0, "opening ?add= saved nothing by itself")
        # ---- add the pages through the form, wait for the worker
        for name in PAGES:
            box = d.find_element(By.ID, "add-url")
            box.clear()
            box.send_keys(f"{fix}/{name}/")
            d.find_element(By.ID, "add-button").click()
            wait_for(lambda: d.find_element(By.ID, "add-url").get_attribute("value") == "", 20, f"{name} saved")
        titles = {n: expected_title(n) for n in PAGES}

        def listed():
            got = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#list li .title")]
            return all(any(q.norm_title(t) == q.norm_title(g) for g in got) for t in titles.values())
        ok = wait_for(listed, 240, "the three pages processed and listed")
        check(ok, "added pages appear in the list with their titles")
        st, j, _, _ = srv.request("GET", "/library/api/status")
        check(st == 200 and j["counts"]["extracted"] == 3, f"status counts 3 extracted: {j}")

        # ---- search a distinctive run of words of one page, open it
        target = "quanta-1"
        phrase = distinctive_phrase(target, [p for p in PAGES if p != target])
        box = d.find_element(By.ID, "search-q")
        box.clear()
        box.send_keys(phrase)
        box.submit()
        first = wait_for(lambda: d.find_elements(By.CSS_SELECTOR, "#list li .snippet") and
                         d.find_element(By.CSS_SELECTOR, "#list li .title").text, 20, "search results")
        check(first and q.norm_title(first) == q.norm_title(titles[target]),
              f"search '{phrase}': first hit {first!r}, want {titles[target]!r}")
        wait_for(lambda: d.find_element(By.CSS_SELECTOR, "#list li .title").click() or True, 20, "open the hit")
        got_title = wait_for(lambda: d.find_element(By.ID, "a-title").text, 20, "the article view")
        check(q.norm_title(got_title or "") == q.norm_title(titles[target]), f"article title {got_title!r}")
        frame = d.find_element(By.ID, "a-frame")
        check(frame.get_attribute("sandbox") == "allow-same-origin", "article frame sandboxed without scripts")
        d.switch_to.frame(frame)
        text = wait_for(lambda: d.find_element(By.TAG_NAME, "body").text, 20, "article text")
        d.switch_to.default_content()
        words = " ".join(re.findall(r"\w+", (text or "").lower()))
        check(phrase in words, "the article frame shows the page's text (the searched phrase in it)")
        check(len(words.split()) > 0.8 * len(expected_words(target)),
              f"article text: {len(words.split())} words, Readability {len(expected_words(target))}")

        # ---- actions: tag, favourite, archive
        item_id = int(d.find_element(By.CSS_SELECTOR, "#list li.current").get_attribute("data-id"))
        d.find_element(By.ID, "a-tag").send_keys("chaos-theory")
        d.find_element(By.CSS_SELECTOR, "#a-tag-form button").click()
        wait_for(lambda: "chaos-theory" in d.find_element(By.ID, "a-tags").text, 20, "the tag shown")
        d.find_element(By.ID, "a-fav").click()
        wait_for(lambda: d.find_element(By.ID, "a-fav").text == "Unfavourite", 20, "favourite")
        # the screenshot shows the whole list beside the article
        d.find_element(By.CSS_SELECTOR, "#list-title button").click()
        wait_for(lambda: len(d.find_elements(By.CSS_SELECTOR, "#list li")) == 3, 20, "the list again")
        d.save_screenshot(shot)
        d.find_element(By.ID, "a-archive").click()
        wait_for(lambda: d.find_element(By.ID, "a-archive").text == "Unarchive", 20, "archived")
        st, it, _, _ = srv.request("GET", f"/library/api/items/{item_id}")
        check(st == 200 and it["archived"] and it["favorite"] and "chaos-theory" in it["tags"],
              f"actions stored: archived/favorite/tag: {it and (it['archived'], it['favorite'], it['tags'])}")
        st, j, _, _ = srv.request("GET", "/library/api/items?view=unread")
        check(item_id not in [x["id"] for x in j["items"]], "an archived item leaves the unread list")
        st, j, _, _ = srv.request("GET", "/library/api/items?view=archived&tag=chaos-theory")
        check([x["id"] for x in j["items"]] == [item_id], "archived + tag filter finds it")
        site = it["site"]
        st, j, _, _ = srv.request("GET", "/library/api/items?" + "view=all&site=" + site.replace(" ", "%20"))
        check(st == 200 and [x["id"] for x in j["items"]] == [item_id], f"site filter {site!r}")

        # ---- 2. inert article HTML
        canary = f"{fix}/canary"
        st, hostile, _, _ = srv.request("POST", "/library/api/items", {"url": f"{fix}/hostile/"})
        check(st == 201, f"add hostile page: {st}")
        hostile = srv.wait_item(hostile["id"])
        check(hostile and hostile["state"] == "extracted", f"hostile page extracted: {hostile and hostile['state']}")
        # a second item whose HTML bypasses the sanitiser altogether
        st, raw, _, _ = srv.request("POST", "/library/api/items", {"url": f"{fix}/raw-hostile/"})
        raw_id = raw["id"]
        srv.wait_item(raw_id)  # fails (404): the row is ours to fill
        c = sqlite3.connect(db, timeout=30)
        with c:
            c.execute("UPDATE items SET state = 2, error = NULL, title = ? WHERE id = ?", (hostile_title(canary), raw_id))
            c.execute("INSERT OR REPLACE INTO contents (item, text, html, words) VALUES (?, 'x', ?, 1)",
                      (raw_id, payloads(canary)))
        c.close()
        CANARY_HITS.clear()
        d.get(base + "?view=all")
        wait_for(lambda: d.find_element(By.ID, "app").is_displayed(), 30, "the page again")
        d.find_element(By.CSS_SELECTOR, "#f-view option[value=all]").click()
        wait_for(lambda: "Showing: all" in d.find_element(By.ID, "list-title").text, 20, "the 'all' view")
        for iid in (hostile["id"], raw_id):
            sel = f"#list li[data-id='{iid}'] .title"
            shown = wait_for(lambda: d.find_element(By.CSS_SELECTOR, sel).text, 20, f"item {iid} listed")
            check(shown and "<img" in shown, f"hostile title shown as text: {shown!r}")
            wait_for(lambda: d.find_element(By.CSS_SELECTOR, sel).click() or True, 20, f"click item {iid}")
            wait_for(lambda: d.find_element(By.ID, "a-title").text.startswith("Hostile <img"), 20, "hostile view")
            time.sleep(1.0)
            frame = d.find_element(By.ID, "a-frame")
            d.switch_to.frame(frame)
            n_links = len(d.find_elements(By.CSS_SELECTOR, "a, button, input, summary"))
            for e in d.find_elements(By.CSS_SELECTOR, "a, button, input, summary"):
                try:
                    e.click()
                except Exception:
                    pass  # hidden or covered: the script below clicks it anyway
            flag_in_frame = d.execute_script("return window.__pwned || null")
            d.switch_to.default_content()
            if iid == raw_id:
                check(n_links >= 4, f"the raw payloads are in the frame ({n_links} links/buttons)")
            time.sleep(1.5)
            # only the ordinary http link opened something: one new tab
            main_window = d.current_window_handle
            others = [h for h in d.window_handles if h != main_window]
            check(len(others) == 1, f"item {iid}: one tab opened (the ordinary link), not {len(others)}")
            for h in others:
                d.switch_to.window(h)
                check(wait_for(lambda: d.current_url.endswith("/ok-link/"), 10, "the link's tab"),
                      f"the new tab shows the ordinary link: {d.current_url}")
                d.close()
            d.switch_to.window(main_window)
            check(flag_in_frame is None, f"item {iid}: flag set inside the frame: {flag_in_frame}")
            check(d.execute_script("return window.__pwned || null") is None, f"item {iid}: flag set on the page")
            check(d.current_url.startswith(base), f"the page did not navigate away: {d.current_url}")
        check(CANARY_HITS == [], f"the canary got no request: {CANARY_HITS}")
        check(len(OK_HITS) == 2, f"the ordinary link was followed once per article: {OK_HITS}")
        # control: the very same payloads without our page around them do fire
        d.get(f"{fix}/control/")
        wait_for(lambda: len(CANARY_HITS) >= 3, 20, "canary hits from the raw control page")
        check(len(CANARY_HITS) >= 3, f"the control page's payloads hit the canary: {CANARY_HITS}")
        print(f"  control: the raw payloads hit the canary {len(CANARY_HITS)} times "
              f"({', '.join(sorted(set(h.split('/')[2] for h in CANARY_HITS)))})")
    finally:
        d.quit()


def login_browser(srv, key):
    from selenium.webdriver.common.by import By
    d = browser()
    try:
        d.get(f"http://127.0.0.1:{srv.port}/library/")
        wait_for(lambda: d.find_element(By.ID, "login").is_displayed(), 30, "the login form")
        d.find_element(By.ID, "login-key").send_keys("wrong")
        d.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait_for(lambda: d.find_element(By.ID, "login-error").text, 20, "a login error")
        check(not d.find_element(By.ID, "app").is_displayed(), "a wrong key does not open the page")
        box = d.find_element(By.ID, "login-key")
        box.clear()
        box.send_keys(key)
        d.find_element(By.CSS_SELECTOR, "#login-form button").click()
        check(wait_for(lambda: d.find_element(By.ID, "app").is_displayed(), 20, "the page after login"),
              "the right key opens the page")
        cookie = d.get_cookie("tg_session")
        check(cookie and cookie.get("httpOnly") and cookie.get("sameSite") == "Strict",
              f"login cookie HttpOnly, SameSite=Strict: {cookie}")
        check(not d.execute_script("return document.cookie"), "the cookie is invisible to scripts")
    finally:
        d.quit()


# ---- 3. plain HTTP ---------------------------------------------------------------------------

def http_tests(srv):
    def err(st, j, want_status, want_code, what):
        check(st == want_status and j and j.get("error", {}).get("code") == want_code,
              f"{what}: {st} {j}, want {want_status} {want_code}")

    # security headers on pages, files, API answers and errors alike
    for method, path in (("GET", "/library/"), ("GET", "/library/app.js"), ("GET", "/library/api/status"),
                         ("GET", "/library/api/items/999999"), ("GET", "/library/nope"), ("POST", "/library/api/items")):
        st, _, h, _ = srv.request(method, path, body=b"{" if method == "POST" else None)
        csp = h.get("Content-Security-Policy", "")
        check("script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
              and "default-src 'none'" in csp, f"{path}: CSP {csp!r}")
        check(h.get("X-Content-Type-Options") == "nosniff" and h.get("X-Frame-Options") == "DENY",
              f"{path}: nosniff and DENY")
    st, _, h, body = srv.request("GET", "/library/")
    check(st == 200 and b"<script src=\"/library/app.js\"" in body, "index loads app.js")
    check(not re.search(rb"<script(?![^>]*\bsrc=)", body) and not re.search(rb"\son[a-z]+=", body),
          "index.html has no inline script or handler")
    st, _, h, _ = srv.request("GET", "/")
    check(st == 302 and h.get("Location") == "/library/", f"/ redirects to /library/: {st}")

    # JSON errors
    e = lambda m, p, b=None, **kw: srv.request(m, p, b, **kw)[:2]  # noqa: E731
    err(*e("GET", "/library/api/items/abc"), 400, "invalid_value", "non-numeric id")
    err(*e("GET", "/library/api/items/0"), 400, "invalid_value", "id 0")
    err(*e("GET", "/library/api/items/-3"), 400, "invalid_value", "negative id")
    err(*e("GET", "/library/api/items/1234567890123456789"), 400, "invalid_value", "huge id")
    err(*e("GET", "/library/api/items/999999"), 404, "not_found", "missing item")
    err(*e("GET", "/library/api/items?limit=0"), 400, "invalid_value", "limit 0")
    err(*e("GET", "/library/api/items?limit=5x"), 400, "invalid_value", "limit 5x")
    err(*e("GET", "/library/api/items?offset=-1"), 400, "invalid_value", "offset -1")
    err(*e("GET", "/library/api/items?view=bogus"), 400, "invalid_value", "view bogus")
    err(*e("GET", "/library/api/items?state=done"), 400, "invalid_value", "state done")
    err(*e("GET", "/library/api/items?tag=" + "x" * 65), 400, "invalid_value", "tag too long")
    err(*e("GET", "/library/api/items?site=%01"), 400, "invalid_value", "control character")
    err(*e("GET", "/library/api/items?site=%ff%fe"), 400, "invalid_value", "invalid UTF-8")
    err(*e("GET", "/library/api/search"), 400, "invalid_value", "search without q")
    err(*e("GET", "/library/api/search?q=" + "a" * 1001), 400, "invalid_value", "query too long")
    err(*e("GET", "/library/api/bogus"), 404, "unknown_url", "unknown call")
    err(*e("POST", "/library/api/items", b"{not json"), 400, "invalid_json", "bad JSON")
    err(*e("POST", "/library/api/items", b"[1]"), 400, "invalid_json", "JSON not an object")
    err(*e("POST", "/library/api/items", {"url": "ftp://example.com/x"}), 400, "invalid_value", "ftp URL")
    err(*e("POST", "/library/api/items", {"url": 5}), 400, "invalid_value", "numeric URL")
    err(*e("POST", "/library/api/items", {"url": "http://e.com/" + "a" * 5000}), 400, "invalid_value", "long URL")
    err(*e("POST", "/library/api/items", {"url": "http://e.com/", "evil": 1}), 400, "unknown_field", "unknown field")
    err(*e("POST", "/library/api/items", {"url": "http://e.com/", "tags": ["ok", ""]}), 400, "invalid_value",
        "empty tag")
    err(*e("POST", "/library/api/items", {"url": "http://e.com/", "tags": ["t"] * 33}), 400, "invalid_value",
        "too many tags")
    err(*e("POST", "/library/api/items/1", {}), 400, "invalid_request", "empty update")
    err(*e("POST", "/library/api/items/1", {"archived": "yes"}), 400, "invalid_value", "archived not boolean")
    err(*e("POST", "/library/api/items/999999", {"archived": True}), 404, "not_found", "update of a missing item")
    err(*e("POST", "/library/api/items", b"{" + b" " * 70000 + b"}"), 413, "body_too_large", "70 kB body")
    err(*e("POST", "/library/api/status", {}), 405, "method_not_allowed", "POST status")
    err(*e("GET", "/library/api/login"), 405, "method_not_allowed", "GET login")
    err(*e("DELETE", "/library/api/items/1"), 405, "method_not_allowed", "DELETE")
    err(*e("POST", "/library/app.js", {}), 405, "method_not_allowed", "POST a file")
    err(*e("POST", "/library/api/ask", {"question": "anything?"}), 400, "no_model", "ask without a model")
    err(*e("GET", "/library/api/ask"), 405, "method_not_allowed", "GET ask")
    st, j = e("GET", "/library/api/items?limit=2&view=all")
    check(st == 200 and len(j["items"]) == 2 and j["more"] is True, f"paging: limit 2 of more: {st}")
    count_before = srv.request("GET", "/library/api/status")[1]["total"]

    # CSRF: header, content type, Origin
    err(*e("POST", "/library/api/items", {"url": "http://csrf.example/"}, csrf=False,
           headers={"Content-Type": "application/json"}), 403, "csrf", "POST without the CSRF header")
    err(*e("POST", "/library/api/items", {"url": "http://csrf.example/"}, csrf=False,
           headers={"X-Tinglado-CSRF": "1", "Content-Type": "text/plain"}), 415, "bad_content_type",
        "POST as text/plain")
    err(*e("POST", "/library/api/items", {"url": "http://csrf.example/"},
           headers={"Origin": "http://evil.example"}), 403, "csrf", "POST from another origin")
    err(*e("POST", "/library/api/items", {"url": "http://csrf.example/"},
           headers={"Origin": "null"}), 403, "csrf", "POST from an opaque origin")
    check(srv.request("GET", "/library/api/status")[1]["total"] == count_before, "refused POSTs added nothing")
    st, j = e("POST", "/library/api/items", {"url": "http://csrf.example/"},
              headers={"Origin": f"http://127.0.0.1:{srv.port}"})
    check(st == 201 and j["url"] == "http://csrf.example/", f"same-origin POST accepted: {st}")
    st, j = e("POST", "/library/api/items", {"url": "http://csrf.example/#frag"})
    check(st == 200 and j["id"], "saving the same URL again answers 200 with the item")
    # Host rule (no key): a DNS-rebinding page sends its own name
    err(*e("GET", "/library/api/status", headers={"Host": "evil.example"}), 403, "bad_host", "foreign Host")
    err(*e("GET", "/library/", headers={"Host": "evil.example:80"}), 403, "bad_host", "foreign Host (page)")
    st, _ = e("GET", "/library/api/status", headers={"Host": f"localhost:{srv.port}"})
    check(st == 200, f"Host localhost accepted: {st}")


def key_tests(db):
    key = "s3cret-key-for-the-test"
    srv = Server(db, "--api-key", key)
    try:
        st, _, _, _ = srv.request("GET", "/library/")
        check(st == 200, "the page itself loads without a key (it holds no data)")
        st, j, h, _ = srv.request("GET", "/library/api/status")
        check(st == 401 and j["error"]["code"] == "login_required", f"API without key: {st}")
        check("Content-Security-Policy" in h, "401 carries the CSP")
        st, j, h, _ = srv.request("POST", "/library/api/login", {"key": "wrong"})
        check(st == 401 and "Set-Cookie" not in h, f"wrong key: {st}, no cookie")
        st, j, h, _ = srv.request("POST", "/library/api/login", {"key": key}, csrf=False,
                                  headers={"Content-Type": "application/json"})
        check(st == 403 and "Set-Cookie" not in h, f"login without the CSRF header refused: {st}")
        st, j, h, _ = srv.request("POST", "/library/api/login", {"key": key})
        cookie = h.get("Set-Cookie", "")
        check(st == 200 and "HttpOnly" in cookie and "SameSite=Strict" in cookie and key not in cookie,
              f"login sets an HttpOnly SameSite=Strict cookie that is not the key: {cookie!r}")
        session = cookie.split(";")[0]
        st, _, _, _ = srv.request("GET", "/library/api/status", headers={"Cookie": session})
        check(st == 200, f"the cookie opens the API: {st}")
        st, _, _, _ = srv.request("GET", "/library/api/status", headers={"Cookie": "tg_session=" + "0" * 64})
        check(st == 401, f"a forged cookie does not: {st}")
        st, _, _, _ = srv.request("GET", "/library/api/status", headers={"Authorization": "Bearer " + key})
        check(st == 200, f"Bearer key opens the API: {st}")
        st, _, _, _ = srv.request("GET", "/library/api/status", headers={"Authorization": "Bearer nope"})
        check(st == 401, f"a wrong Bearer key does not: {st}")
        st, _, _, _ = srv.request("POST", "/library/api/items", {"url": "http://x.example/"},
                                  headers={"Cookie": "tg_session=bad"})
        check(st == 401, f"POST with a bad cookie: {st}")
        login_browser(srv, key)
    finally:
        srv.stop()
    # a non-loopback address without a key is refused at start
    r = subprocess.run([BIN, "serve", "--library", db, "--host", "0.0.0.0", "--port", "0"], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, TINGLADO_API_KEY=""))
    check(r.returncode != 0 and "without an API key" in r.stderr,
          f"--host 0.0.0.0 without a key refused: {r.returncode} {r.stderr[-300:]}")
    r = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and "--library DB" in r.stdout, "serve --help documents --library")


def hybrid_tests(tmp, web_port):
    """With --embedding-model (and no -m): the worker embeds the passages of
    what it extracts and the page's search becomes hybrid; paraphrased
    questions that share almost no words with their page find it first
    (the optimised binary: embedding under the sanitizers is slow)."""
    cache = os.environ.get("TINGLADO_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                             os.path.expanduser("~/.cache"), "tinglado")
    gguf = os.path.join(tmp, "minilm.gguf")
    r = subprocess.run([REL_BIN, "convert", os.path.join(cache, "models", "all-MiniLM-L6-v2"), "-o", gguf],
                       capture_output=True, text=True, timeout=300)
    if not check(r.returncode == 0, f"convert MiniLM (scripts/setup.sh fetches it): {r.stderr[-300:]}"):
        return
    db = os.path.join(tmp, "hybrid.db")
    srv = Server(db, "--embedding-model", gguf, "-t", "2", bin=REL_BIN)
    try:
        st, j, _, _ = srv.request("GET", "/library/api/status")
        check(st == 200 and j["search"] == "hybrid" and j["ask"] is False, f"status with an embedder: {j}")
        ids = {}
        for name in ("aclu", "bbc-1", "wapo-1", "quanta-1"):
            ids[name] = srv.request("POST", "/library/api/items", {"url": f"http://127.0.0.1:{web_port}/{name}/"})[1]["id"]
        t0 = time.time()
        for name, iid in ids.items():
            it = srv.wait_item(iid)
            check(it and it["state"] == "extracted", f"{name} extracted: {it and it['state']}")

        def embedded():
            c = sqlite3.connect(db, timeout=30)
            try:
                return c.execute("SELECT count(DISTINCT item) FROM chunks").fetchone()[0]
            finally:
                c.close()
        wait_for(lambda: embedded() == len(ids), 300, "passages of every article embedded by the worker")
        print(f"  hybrid: {len(ids)} articles fetched, extracted and embedded by the worker in {time.time() - t0:.0f} s")
        semantic = {"aclu": "social network collects profiles of people who never signed up",
                    "bbc-1": "president regrets failure on firearm control legislation",
                    "wapo-1": "terrorist attack on a museum raises security worries"}
        first = 0
        for name, query in semantic.items():
            st, j, _, _ = srv.request("GET", "/library/api/search?" + urllib.parse.urlencode({"q": query}))
            ok = st == 200 and j["mode"] == "hybrid" and j["hits"] and j["hits"][0]["id"] == ids[name]
            check(ok, f"hybrid search {query!r}: {st} {j and [h['id'] for h in j.get('hits', [])]}, want {ids[name]}")
            first += bool(ok)
        print(f"  hybrid: {first}/{len(semantic)} paraphrased questions find their page first")
        st, j, _, _ = srv.request("POST", "/v1/embeddings", {"input": "hello"}, csrf=False,
                                  headers={"Content-Type": "application/json"})
        check(st == 200 and len(j["data"][0]["embedding"]) == 384, f"/v1/embeddings without -m: {st}")
        st, j, _, _ = srv.request("POST", "/v1/chat/completions", {"messages": []}, csrf=False,
                                  headers={"Content-Type": "application/json"})
        check(st == 503 and j["error"]["code"] == "no_model", f"/v1/chat/completions without -m: {st} {j}")
    finally:
        srv.stop()


def model_tests(tmp, web_port):
    """With -m: the worker enriches what it extracts, and the ask box answers
    with a citation that opens the cited article (the optimised binary: the
    model's decoding under the sanitizers would take minutes)."""
    from selenium.webdriver.common.by import By
    db = os.path.join(tmp, "model.db")
    srv = Server(db, "-m", MODEL, "-t", "2", bin=REL_BIN)
    try:
        st, j, _, _ = srv.request("GET", "/library/api/status")
        check(st == 200 and j["ask"] is True and j["model"], f"status with a model: ask on: {j}")
        st, it, _, _ = srv.request("POST", "/library/api/items", {"url": f"http://127.0.0.1:{web_port}/bbc-1/"})
        t0 = time.time()
        it = srv.wait_item(it["id"], states=("enriched", "failed"), timeout=600, enriching=True)
        check(it and it["state"] == "enriched" and it["summary"] and 3 <= len(it["tags"]) <= 7,
              f"the worker enriched the article: {it and (it['state'], it['summary'], it['tags'])}")
        print(f"  enrichment by the worker: {time.time() - t0:.0f} s, tags {it and it['tags']}")
        # a second article (extracted; its enrichment may fail: the 270M model is weak at it), so
        # that citing the right one means something
        st, other, _, _ = srv.request("POST", "/library/api/items", {"url": f"http://127.0.0.1:{web_port}/wapo-1/"})
        other = srv.wait_item(other["id"])
        check(other and other["state"] in ("extracted", "enriched"), f"second article: {other and other['state']}")
        err = lambda b, code, what: check(srv.request("POST", "/library/api/ask", b)[1].get("error", {})  # noqa
                                          .get("code") == code, what)
        err({"question": ""}, "invalid_value", "empty question")
        err({"question": "x" * 2001}, "invalid_value", "question too long")
        err({"q": "x"}, "unknown_field", "ask: unknown field")
        d = browser()
        try:
            d.get(f"http://127.0.0.1:{srv.port}/library/")
            wait_for(lambda: d.find_element(By.ID, "ask").is_displayed(), 30, "the ask box")
            d.find_element(By.ID, "ask-q").send_keys("What did Obama say about gun laws?")
            d.find_element(By.CSS_SELECTOR, "#ask-form button").click()
            t0 = time.time()
            src = wait_for(lambda: d.find_elements(By.CSS_SELECTOR, "#ask-sources li"), 300, "an answer with sources")
            answer = d.find_element(By.ID, "ask-text").text
            print(f"  ask: {time.time() - t0:.0f} s: {answer!r}")
            check(src and answer and all(e.get_attribute("data-item") == str(it["id"]) for e in src),
                  f"the answer cites the article: {answer!r}")
            if os.environ.get("TG_SCREENSHOT_ASK"):
                d.save_screenshot(os.environ["TG_SCREENSHOT_ASK"])
            if src:
                src[0].find_element(By.TAG_NAME, "button").click()
                got = wait_for(lambda: d.find_element(By.ID, "a-title").text, 20, "the cited article")
                check(got == it["title"], f"a citation opens its article: {got!r}")
                check(it["summary"] in d.find_element(By.ID, "a-summary").text, "the article view shows the summary")
        finally:
            d.quit()
    finally:
        srv.stop()


def main():
    for n in PAGES:
        if shared_fixtures.page_source(n) is None:
            raise SystemExit(f"fixture page {n} missing under {shared_fixtures.readability_dir()}")
    web = shared_fixtures.quiet_server(Web)
    web_port = web.server_address[1]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "library.db")
        shot = os.environ.get("TG_SCREENSHOT") or os.path.join(tmp, "reading-web.png")
        srv = Server(db)
        try:
            t0 = time.time()
            browser_tests(srv, web_port, db, shot)
            check(os.path.getsize(shot) > 10000, "a screenshot was taken")
            print(f"  browser: add, process, search, open, actions, inert payloads in {time.time() - t0:.0f} s; "
                  f"screenshot {shot}")
            http_tests(srv)
        finally:
            srv.stop()
        key_tests(db)
        hybrid_tests(tmp, web_port)
        model_tests(tmp, web_port)
    web.shutdown()
    if failures:
        print(f"test_library_web: {failures} check(s) failed")
        sys.exit(1)
    print("test_library_web: all checks passed")


if __name__ == "__main__":
    main()
