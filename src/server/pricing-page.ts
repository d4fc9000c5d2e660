import type { ServerResponse } from 'node:http';
import type { PublicPrice } from '../gateway/pricing.js';

export interface PricedModel {
  model: string;
  pricing: PublicPrice | undefined;
}

/**
 * GET /pricing: a public page listing every model and what it costs, for the people who copy a
 * model name into their code. No script: a click on a name selects all of it (user-select: all).
 * Everything from the config is escaped; the CSP forbids anything the page does not itself hold.
 */
export function renderPricingPage(models: readonly PricedModel[], version: string): string {
  const rows = models.map(({ model, pricing }) => {
    const name = `<td><code class="name" title="Click to select, then copy">${escapeHtml(model)}</code></td>`;
    if (pricing === undefined) return `<tr>${name}<td colspan="4" class="none">no price set</td></tr>`;
    const cells = [pricing.input, pricing.output, pricing.cache_read, pricing.cache_write].map((usd) => `<td class="num">${usdCell(usd)}</td>`);
    return `<tr>${name}${cells.join('')}</tr>`;
  });
  const body =
    models.length === 0
      ? '<p>No models are configured.</p>'
      : `<table>
<thead><tr><th>Model (use as <code>model</code>)</th><th>Input</th><th>Output</th><th>Cache read</th><th>Cache write</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Models and prices</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .8rem; border-bottom: 1px solid #ddd; }
th { font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.none { color: #888; }
code.name { user-select: all; -webkit-user-select: all; background: #f3f3f3; padding: .1rem .3rem; border-radius: 3px; cursor: text; }
footer { margin-top: 1.5rem; color: #666; font-size: 13px; }
</style>
</head>
<body>
<h1>Models and prices</h1>
<p>Prices in US dollars per 1 million tokens. Cached prompt tokens are charged once, at the cache price.</p>
${body}
<footer>Sluice ${escapeHtml(version)}</footer>
</body>
</html>
`;
}

/** `$0.15`; up to 6 decimals (the precision prices are kept in), never in exponent notation. */
function usdCell(usd: number): string {
  const fixed = usd.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  const [whole = '0', fraction = ''] = fixed.split('.');
  return `$${whole}.${fraction.padEnd(2, '0')}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function sendPricingPage(res: ServerResponse, html: string, headers: Record<string, string>): void {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(html)),
    'cache-control': 'no-cache',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}
