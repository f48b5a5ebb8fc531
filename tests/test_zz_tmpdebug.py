import httpx, time
from playwright.sync_api import sync_playwright
def test_dbg(live_server):
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox","--disable-gpu"])
        pg = b.new_page()
        pg.on("console", lambda m: print("CONSOLE", m.type, m.text))
        pg.on("request", lambda r: print("REQ", r.method, r.url))
        pg.on("requestfinished", lambda r: print("DONE", r.url))
        pg.on("requestfailed", lambda r: print("FAILED", r.url, r.failure))
        pg.goto(live_server + "/")
        pg.wait_for_timeout(2000)
        t = time.time()
        r = httpx.get(live_server + "/api/stats", timeout=30); print("stats", r.status_code, r.text[:100], time.time()-t)
        pg.fill("#question", "公积金贷款最高额度是多少？"); pg.press("#question", "Enter")
        for i in range(20):
            pg.wait_for_timeout(1000)
            print(i, pg.locator(".turn").count(), pg.locator(".turn.pending").count())
            if pg.locator(".turn:not(.pending)").count(): break
        b.close()
