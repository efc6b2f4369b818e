/**
 * The web UI in a real browser against a real Parley (demo model): a user's journey from
 * picking a name to reopening a past conversation. The tests run in order and share one
 * conversation, as a person would.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startParley, type RunningParley } from '../support/parley.ts';
import {
  enableHint,
  hasChromium,
  launchChromium,
  openPage,
  screenshot,
  type OpenedPage,
} from './browser.ts';

if (!hasChromium) console.warn(`Skipping the browser tests: ${enableHint}.`);

const userName = 'e2e-alice';
const assistant = 'article[aria-label="Parley"]';
const user = 'article[aria-label="You"]';

/** Sends a message the way a person does: type, then Enter. */
async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** Sends a message and returns its reply, once the reply has started showing text. */
async function ask(page: Page, text: string): Promise<Locator> {
  const replies = await page.locator(assistant).count();
  await send(page, text);
  const reply = page.locator(assistant).nth(replies);
  await expect
    .poll(async () => ((await reply.textContent()) ?? '').length, { timeout: 20_000 })
    .toBeGreaterThan(40);
  return reply;
}

/** Waits until a reply has ended one way or another; returns its status class. */
async function ended(reply: Locator): Promise<string> {
  await expect
    .poll(async () => (await reply.getAttribute('class')) ?? '', { timeout: 20_000 })
    .toMatch(/status-(completed|cancelled|failed)/);
  return (await reply.getAttribute('class'))!;
}

const compact = (text: string) => text.replace(/\s+/g, '');

describe.skipIf(!hasChromium)('web UI in Chromium', () => {
  let parley: RunningParley;
  let browser: Browser;
  let tab: OpenedPage;
  let page: Page;
  let firstSessionId: string;

  beforeAll(async () => {
    parley = await startParley({
      LLM_PROVIDER: 'demo',
      DEMO_TOKEN_DELAY_MS: '15',
      SESSION_END_GRACE_MS: '300',
      JOB_POLL_INTERVAL_SECONDS: '1',
    });
    browser = await launchChromium();
    tab = await openPage(browser, { url: parley.httpUrl });
    page = tab.page;
  });

  afterAll(async () => {
    await browser?.close();
    await parley?.close();
  });

  test('a first visit asks for a user name, then shows the demo banner and the connection', async () => {
    await page.goto('/');
    await expect.poll(() => page.getByLabel('Your user name').isVisible()).toBe(true);
    await screenshot(page, 'welcome-desktop-light');
    await page.getByLabel('Your user name').fill('not a valid name!');
    await page.getByRole('button', { name: 'Continue' }).click();
    await expect.poll(() => page.locator('#user-name-hint').textContent()).toContain('must be');
    await page.getByLabel('Your user name').fill(userName);
    await page.getByRole('button', { name: 'Continue' }).click();
    const banner = page.getByRole('note', { name: 'Demo model' });
    await expect.poll(() => banner.textContent()).toContain('OPENAI_API_KEY');
    expect(await banner.textContent()).toContain('LLM_BASE_URL');
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Connected');
    expect(await page.evaluate(() => localStorage.getItem('parley.userName'))).toBe(userName);
    await screenshot(page, 'new-conversation-desktop-light');
  });

  test('Shift+Enter adds a line; Enter sends; the reply streams in pieces', async () => {
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.fill('hello there');
    await box.press('Shift+Enter');
    await box.pressSequentially('second line');
    await box.press('Enter');
    expect(await page.locator(user).first().locator('.bubble').textContent()).toBe(
      'hello there\nsecond line',
    );
    // Watch the reply's text as the page shows it, until it is complete.
    const reply = page.locator(assistant).first();
    const seen: number[] = [];
    while (
      !((await reply.getAttribute('class').catch(() => '')) ?? '').includes('status-completed')
    ) {
      const length =
        (
          await reply
            .locator('.markdown')
            .first()
            .textContent({ timeout: 1_000 })
            .catch(() => '')
        )?.length ?? 0;
      if (length > 0 && length !== seen.at(-1)) seen.push(length);
    }
    expect(seen.length).toBeGreaterThan(5);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await page.locator(assistant).first().textContent()).toContain('offline demo model');
    expect(page.url()).toMatch(/\/chat\/[0-9a-f-]{36}$/);
    firstSessionId = page.url().split('/').at(-1)!;
  });

  test('a tool call shows inline as a card that opens to show arguments and result', async () => {
    const reply = await ask(page, 'what is 12*(3+4)?');
    const card = reply.locator('.tool-card[data-tool="calculate"]');
    expect(await ended(reply)).toContain('status-completed');
    const summary = await card.locator('summary').textContent();
    expect(summary).toContain('calculate');
    expect(summary).toMatch(/done · \d+ ms/);
    expect(summary).toContain('"84"');
    expect(await card.getAttribute('open')).toBeNull();
    await card.locator('summary').click();
    expect(await card.getAttribute('open')).not.toBeNull();
    expect(await card.locator('.tool-section').first().textContent()).toContain(
      '"expression": "12*(3+4)"',
    );
    expect(await reply.locator('.markdown').textContent()).toContain('84');
    await screenshot(page, 'tool-card-desktop-light');
  });

  test('a message sent while a reply streams queues visibly; Stop ends the reply; the queued one is answered', async () => {
    const reply = await ask(page, 'please give me a long answer');
    const replies = await page.locator(assistant).count();
    await send(page, 'what time is it in Tokyo?');
    const queued = page.locator(user).last();
    await expect.poll(() => queued.textContent()).toContain('Queued');
    await screenshot(page, 'streaming-with-queued-desktop-light');
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => reply.textContent()).toContain('Stopped');
    expect(await reply.getAttribute('class')).toContain('status-cancelled');
    // The queued question is answered next, with its tool.
    const answer = page.locator(assistant).nth(replies);
    await answer.locator('.tool-card[data-tool="get_current_time"]').waitFor();
    expect(await ended(answer)).toContain('status-completed');
    expect(await queued.textContent()).not.toContain('Queued');
  });

  test('Esc stops a reply too', async () => {
    const reply = await ask(page, 'another long answer please');
    await page.keyboard.press('Escape');
    expect(await ended(reply)).toContain('status-cancelled');
  });

  test('after the connection drops mid-reply, it reconnects and the text is exact: nothing lost, nothing twice', async () => {
    const reply = await ask(page, 'one more long answer');
    const sawReconnecting = page.waitForSelector('[data-state="reconnecting"]', {
      timeout: 10_000,
    });
    for (const socket of parley.app.websocketServer.clients) socket.terminate();
    await sawReconnecting;
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Connected');
    expect(await ended(reply)).toContain('status-completed');
    const events = await (
      await fetch(
        `${parley.httpUrl}/api/sessions/${firstSessionId}/events?user_id=${userName}&limit=1000`,
      )
    ).json();
    const stored = (events as { events: { event_type: string; content: string }[] }).events.filter(
      (event) => event.event_type === 'assistant_message',
    );
    expect(compact((await reply.locator('.markdown').textContent()) ?? '')).toBe(
      compact(stored.at(-1)!.content),
    );
  });

  test('a reload shows the whole conversation again', async () => {
    // What the user wrote and what the model answered (tool results' JSON keys may come back reordered).
    const texts = () =>
      page
        .locator('.messages .bubble, .messages .markdown, .messages .message-status')
        .allTextContents();
    const before = await texts();
    await page.reload();
    await expect.poll(texts).toEqual(before);
    expect(await page.locator('.tool-card').count()).toBe(2);
    await expect.poll(() => page.getByRole('status').first().textContent()).toBe('Connected');
  });

  test('model output cannot inject script', async () => {
    // (Page code as strings: the DOM is not part of this TypeScript program.)
    await page.evaluate('window.pwned = 0');
    // The demo model quotes the message back in its reply, which is rendered as Markdown.
    const reply = await ask(
      page,
      '<img src=x onerror="window.pwned=1"> [click](javascript:window.pwned=2)',
    );
    await ended(reply);
    expect(await reply.textContent()).toContain('<img src=x onerror=');
    expect(await page.locator('.messages img').count()).toBe(0);
    expect(await reply.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBe(0);
  });

  test("a new conversation; the previous one's summary appears in the sidebar once it has ended", async () => {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    await expect.poll(() => page.url()).toBe(`${parley.httpUrl}/`);
    expect(await page.locator('.messages article').count()).toBe(0);
    const entry = page.locator(`.session-link[data-session-id="${firstSessionId}"]`);
    await expect
      .poll(() => entry.locator('.session-summary').textContent(), { timeout: 20_000 })
      .toContain('The user sent');
    expect(await entry.locator('.session-title').textContent()).not.toBe('');
    expect(await entry.locator('.session-meta').textContent()).toMatch(/Today, .* · \d+ (s|min)/);
    await screenshot(page, 'summary-in-sidebar-desktop-light');
  });

  test('a past conversation reopens from the sidebar with its history, and goes on', async () => {
    await page.locator(`.session-link[data-session-id="${firstSessionId}"]`).click();
    await expect.poll(() => page.url()).toBe(`${parley.httpUrl}/chat/${firstSessionId}`);
    await expect.poll(() => page.locator('.tool-card').count()).toBe(2);
    const userMessages = await page.locator(user).count();
    const replies = await page.locator(assistant).count();
    await send(page, 'what is 2+2?');
    const reply = page.locator(assistant).nth(replies);
    expect(await ended(reply)).toContain('status-completed');
    expect(await page.locator(user).count()).toBe(userMessages + 1);
    expect(await page.locator('.tool-card').count()).toBe(3);
    expect(await reply.locator('.markdown').textContent()).toContain('4');
  });

  test('phone and desktop, light and dark', async () => {
    const shots: {
      name: string;
      viewport: { width: number; height: number };
      colorScheme: 'light' | 'dark';
    }[] = [
      {
        name: 'conversation-desktop-dark',
        viewport: { width: 1280, height: 800 },
        colorScheme: 'dark',
      },
      {
        name: 'conversation-phone-light',
        viewport: { width: 390, height: 844 },
        colorScheme: 'light',
      },
      {
        name: 'conversation-phone-dark',
        viewport: { width: 390, height: 844 },
        colorScheme: 'dark',
      },
    ];
    for (const { name, viewport, colorScheme } of shots) {
      const other = await openPage(browser, {
        url: parley.httpUrl,
        userName,
        viewport,
        colorScheme,
      });
      await other.page.goto(`/chat/${firstSessionId}`);
      await expect.poll(() => other.page.locator('.tool-card').count()).toBe(3);
      await screenshot(other.page, name);
      if (viewport.width < 768) {
        // No sideways scrolling on a phone.
        expect(
          await other.page.evaluate('document.documentElement.scrollWidth'),
        ).toBeLessThanOrEqual(viewport.width);
        const menu = other.page.getByRole('button', { name: 'Conversations' });
        await menu.click();
        await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('true');
        await other.page.locator('.sidebar.open').waitFor();
        await other.page.waitForTimeout(300);
        await screenshot(other.page, `${name}-sidebar`);
        await other.page.keyboard.press('Escape');
        await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');
      }
      expect(other.errors).toEqual([]);
      await other.context.close();
    }
  });

  test('no script errors and no content-security-policy violations along the way', () => {
    // The dropped socket may be reported by the browser; nothing else may.
    expect(tab.errors.filter((error) => !error.includes('WebSocket'))).toEqual([]);
  });
});
