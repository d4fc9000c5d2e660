#!/usr/bin/env node
// report.mjs — turns run.mjs phase records into per-level figures, target verdicts and a text table.
// Also a CLI to reprint a saved run:  node bench/report.mjs bench/results/<file>.json
//
// Ratios and deltas are computed inside each repeat (direct and Sluice measured back to back), and the
// median over repeats is reported, with the (min..max) range when there are several repeats. That
// cancels most of the machine's drift, which is larger than the differences being measured.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TARGETS = [
  { id: 'ttft_p50_c1', what: 'added TTFT p50, stream c=1', mode: 'stream', c: 1, get: (l) => l.delta.ttft_p50, op: '<=', limit: 1, unit: 'ms' },
  { id: 'ttft_p99_c32', what: 'added TTFT p99, stream c=32', mode: 'stream', c: 32, get: (l) => l.delta.ttft_p99, op: '<=', limit: 5, unit: 'ms' },
  { id: 'stream_tput_c32', what: 'stream chunks/s Sluice/direct, c=32', mode: 'stream', c: 32, get: (l) => l.ratio.chunks_per_s, op: '>=', limit: 0.8, unit: 'x' },
  { id: 'nonstream_tput_c32', what: 'non-stream req/s Sluice/direct, c=32', mode: 'nonstream', c: 32, get: (l) => l.ratio.rps, op: '>=', limit: 0.6, unit: 'x' },
  { id: 'rss_c256', what: 'Sluice peak RSS, stream c=256', mode: 'stream', c: 256, get: (l) => l.sluice.peak_rss_mib, op: '<=', limit: 150, unit: 'MiB' },
];

// CPU (in cores) used by unrelated processes during a phase above which its figures are suspect.
export const NOISY = 0.25;

const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
};
const spread = (xs) => {
  const v = xs.filter(Number.isFinite);
  return v.length ? { min: Math.min(...v), max: Math.max(...v) } : null;
};
const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : NaN);

export function summarise(phases) {
  const byLevel = new Map();
  for (const p of phases) {
    const k = `${p.mode}|${p.concurrency}`;
    if (!byLevel.has(k)) byLevel.set(k, new Map());
    const reps = byLevel.get(k);
    if (!reps.has(p.repeat)) reps.set(p.repeat, {});
    reps.get(p.repeat)[p.target] = p;
  }
  const levels = [];
  for (const [k, reps] of byLevel) {
    const [mode, c] = k.split('|');
    const pairs = [...reps.values()].filter((r) => r.direct && r.sluice);
    if (!pairs.length) continue;
    const side = (t) => ({
      rps: median(pairs.map((r) => num(r[t].load.rps))),
      chunks_per_s: mode === 'stream' ? median(pairs.map((r) => num(r[t].load.chunks_per_s))) : null,
      ttft_p50: median(pairs.map((r) => num(r[t].load.ttft_ms.p50))),
      ttft_p90: median(pairs.map((r) => num(r[t].load.ttft_ms.p90))),
      ttft_p99: median(pairs.map((r) => num(r[t].load.ttft_ms.p99))),
      ok: pairs.reduce((s, r) => s + r[t].load.ok, 0),
      errors: pairs.reduce((s, r) => s + r[t].load.errors + r[t].load.warmup_errors, 0),
      reconnects: pairs.reduce((s, r) => s + r[t].load.reconnects, 0),
      other_cores: median(pairs.map((r) => num(r[t].other_cores))),
    });
    const per = (f) => pairs.map(f);
    const ratio = (key) => per((r) => num(r.sluice.load[key]) / num(r.direct.load[key]));
    const delta = (q) => per((r) => num(r.sluice.load.ttft_ms[q]) - num(r.direct.load.ttft_ms[q]));
    const sl = side('sluice');
    Object.assign(sl, {
      cpu_s: median(per((r) => r.sluice.gateway.cpu_s)),
      cpu_cores: median(per((r) => r.sluice.gateway.cpu_s / r.sluice.wall_s)),
      cpu_ms_per_req: median(per((r) => (r.sluice.gateway.cpu_s / r.sluice.load.completed) * 1000)),
      // a peak is a peak: the highest over repeats, not the median
      peak_rss_mib: Math.max(...per((r) => num(r.sluice.gateway.peak_rss_mib))),
    });
    levels.push({
      mode, concurrency: Number(c), repeats: pairs.length,
      direct: side('direct'), sluice: sl,
      ratio: { rps: median(ratio('rps')), chunks_per_s: mode === 'stream' ? median(ratio('chunks_per_s')) : null },
      ratio_range: { rps: spread(ratio('rps')), chunks_per_s: mode === 'stream' ? spread(ratio('chunks_per_s')) : null },
      delta: { ttft_p50: median(delta('p50')), ttft_p90: median(delta('p90')), ttft_p99: median(delta('p99')) },
      delta_range: { ttft_p50: spread(delta('p50')), ttft_p99: spread(delta('p99')) },
      noisy_phases: pairs.reduce((n, r) => n + (r.direct.other_cores > NOISY) + (r.sluice.other_cores > NOISY), 0),
    });
  }
  levels.sort((a, b) => (a.mode === b.mode ? a.concurrency - b.concurrency : a.mode === 'stream' ? -1 : 1));

  const targets = TARGETS.map((t) => {
    const l = levels.find((x) => x.mode === t.mode && x.concurrency === t.c);
    const value = l ? t.get(l) : null;
    const verdict = value === null || !Number.isFinite(value) ? 'NOT RUN'
      : (t.op === '<=' ? value <= t.limit : value >= t.limit) ? 'PASS' : 'FAIL';
    return { id: t.id, what: t.what, value, op: t.op, limit: t.limit, unit: t.unit, verdict };
  });
  // Not one of the targets, but every figure above assumes Sluice's responses were correct.
  const sluiceErrors = levels.reduce((s, l) => s + l.sluice.errors, 0);
  targets.push({ id: 'verified', what: 'responses through Sluice failing checks', value: sluiceErrors, op: '==', limit: 0, unit: '', verdict: sluiceErrors === 0 ? 'PASS' : 'FAIL' });
  return { levels, targets };
}

// ---- text ----
function fmt(x, digits = 2) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  if (Math.abs(x) >= 100) return x.toFixed(0);
  return x.toFixed(digits);
}
const signed = (x) => (Number.isFinite(x) && x >= 0 ? '+' : '') + fmt(x);
const range = (r, f = fmt) => (r && r.min !== r.max ? ` (${f(r.min)}..${f(r.max)})` : '');

function table(header, rows) {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => r.map((cell, i) => (i < 2 ? String(cell).padEnd(w[i]) : String(cell).padStart(w[i]))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function formatReport({ levels, targets }, meta = {}) {
  const out = [];
  if (meta.note) out.push(meta.note, '');
  out.push('Throughput and Sluice cost (medians over repeats; ratio = Sluice/direct within a repeat, (min..max) over repeats)');
  out.push(table(
    ['mode', 'conc', 'req/s direct', 'req/s Sluice', 'ratio', 'chunks/s direct', 'chunks/s Sluice', 'ratio', 'Sluice CPU s', 'cores', 'CPU ms/req', 'peak RSS MiB', 'errors d/S', 'other load d/S'],
    levels.map((l) => [
      l.mode, l.concurrency, fmt(l.direct.rps), fmt(l.sluice.rps), fmt(l.ratio.rps) + range(l.ratio_range.rps),
      fmt(l.direct.chunks_per_s), fmt(l.sluice.chunks_per_s), l.mode === 'stream' ? fmt(l.ratio.chunks_per_s) + range(l.ratio_range.chunks_per_s) : '-',
      fmt(l.sluice.cpu_s), fmt(l.sluice.cpu_cores), fmt(l.sluice.cpu_ms_per_req, 3), fmt(l.sluice.peak_rss_mib, 1),
      `${l.direct.errors}/${l.sluice.errors}`, `${fmt(l.direct.other_cores)}/${fmt(l.sluice.other_cores)}`,
    ]),
  ));
  out.push('');
  out.push('Client-observed TTFT in ms (stream: first non-empty content delta; non-stream: whole reply parsed); added = Sluice - direct');
  out.push(table(
    ['mode', 'conc', 'p50 direct', 'p50 Sluice', 'added p50', 'p90 direct', 'p90 Sluice', 'added p90', 'p99 direct', 'p99 Sluice', 'added p99'],
    levels.map((l) => [
      l.mode, l.concurrency,
      fmt(l.direct.ttft_p50), fmt(l.sluice.ttft_p50), signed(l.delta.ttft_p50) + range(l.delta_range.ttft_p50, signed),
      fmt(l.direct.ttft_p90), fmt(l.sluice.ttft_p90), signed(l.delta.ttft_p90),
      fmt(l.direct.ttft_p99), fmt(l.sluice.ttft_p99), signed(l.delta.ttft_p99) + range(l.delta_range.ttft_p99, signed),
    ]),
  ));
  out.push('');
  out.push('Targets');
  out.push(table(
    ['target', 'measured', 'limit', 'result'],
    targets.map((t) => [t.what, t.value === null ? '-' : t.id === 'verified' ? String(t.value) : `${t.unit === 'ms' ? signed(t.value) : fmt(t.value)} ${t.unit}`.trim(), `${t.op} ${t.limit} ${t.unit}`.trim(), t.verdict]),
  ));
  const noisy = levels.filter((l) => l.noisy_phases > 0).map((l) => `${l.mode} c=${l.concurrency}: ${l.noisy_phases}/${2 * l.repeats}`);
  if (noisy.length) out.push('', `note: phases during which other processes used > ${NOISY} cores (figures disturbed; rerun on a quiet machine or add --repeats): ${noisy.join(', ')}`);
  const reconnects = levels.filter((l) => l.sluice.reconnects > 0).map((l) => `${l.mode} c=${l.concurrency}: ${l.sluice.reconnects}`);
  if (reconnects.length) out.push('', `note: client connections to Sluice were re-opened while measuring (keep-alive not held): ${reconnects.join(', ')}`);
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) { console.error('usage: node bench/report.mjs bench/results/<file>.json'); process.exit(2); }
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  console.log(formatReport(summarise(saved.phases), { note: saved.meta?.description }));
}
