// Same file, same run, alternating: vqi's oneDNN backend (onednn_bench serve, a child process
// kept warm) vs ONNX Runtime (onnxruntime-node, in this process). Prints p50/p95 of each and
// the ratio oneDNN / ONNX Runtime.
//
//   node bench/peers/compare.js --model M.onnx --bench build/x/bench/onednn_bench
//        [--threads 2] [--rounds 20] [--batch 5] [--spin 1|0] [--ort-model M2.onnx]
//        [--precision auto|fp32|bf16|int8] [--bench-b B2 [--model-b M2] [--precision-b P2]]
//
// --ort-model: ONNX Runtime runs this file instead (e.g. ours int8 QDQ vs ORT fp32).
// --precision: our side's precision (onednn_bench serve's third argument; ORT stays as is);
// --precision-b: the b side's (default: --precision), e.g. bf16 vs fp32 under one load.
// --bench-b B2 [--model-b M2]: a second onednn_bench (e.g. the build before a change) serving
// the same (or another) model joins the rotation (ours, ONNX Runtime, ours-b): before/after
// ratios from one run, under the same load. Prints `b` and `ratio_b_p50` (b / ONNX Runtime).
//
// Before each batch the other side's threads get --settle-ms (default 200) to stop spinning, and
// each batch runs one untimed inference first (caches were the other runtime's): both sides are
// treated alike, and neither is timed while the other's OpenMP / thread-pool workers still
// busy-wait on the same cores (that interplay made the t model look 1.4-1.5x slower than alone).
//
// --spin 0 turns busy-waiting off on both sides (OMP_WAIT_POLICY=passive for oneDNN's OpenMP,
// session.intra_op.allow_spinning=0 for ONNX Runtime): the fair setting on a loaded host,
// where a spinning thread steals the core its partner needs.
'use strict';
const { spawn } = require('child_process');
const readline = require('readline');
const ort = require('onnxruntime-node');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

function pct(v, p) {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(p * (s.length - 1)))];
}

async function main() {
  const model = arg('model');
  const bench = arg('bench');
  const threads = Number(arg('threads', 2));
  const rounds = Number(arg('rounds', 20));
  const batch = Number(arg('batch', 5));
  const spin = arg('spin', '1') !== '0';
  const settleMs = Number(arg('settle-ms', 200));
  const settle = () => new Promise((r) => setTimeout(r, settleMs));
  if (!model || !bench) throw new Error('usage: --model M.onnx --bench path/to/onednn_bench');

  const env = { ...process.env };
  if (!spin) env.OMP_WAIT_POLICY = 'passive';
  const precision = arg('precision', 'auto');
  const serve = async (exe, m, prec) => {
    const child = spawn(exe, ['serve', m, String(threads), prec],
                        { stdio: ['pipe', 'pipe', 'inherit'], env });
    const lines = readline.createInterface({ input: child.stdout });
    const it = lines[Symbol.asyncIterator]();
    const next = async () => (await it.next()).value;
    const header = JSON.parse(await next());
    const run = async (n) => {
      child.stdin.write(`run ${n + 1}\n`);
      return (await next()).trim().split(' ').map(Number).slice(1);
    };
    return { child, header, run };
  };
  const A = await serve(bench, model, precision);
  const header = A.header;
  const ours = A.run;
  const benchB = arg('bench-b');
  const B = benchB ? await serve(benchB, arg('model-b', model), arg('precision-b', precision)) : null;

  const ortModel = arg('ort-model', model);
  const session = await ort.InferenceSession.create(ortModel, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } },
  });
  const dims = [1, 3, 0, 0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const shape = meta && meta.shape ? meta.shape.map(Number) : null;
  if (!shape) throw new Error('cannot read the input shape');
  for (let k = 0; k < 4; ++k) dims[k] = shape[k];
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let k = 0; k < data.length; ++k) data[k] = ((k * 2654435761) % 1000) / 1000;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
  const theirs = async (n) => {
    const t = [];
    await session.run(feeds);  // untimed, as ours
    for (let k = 0; k < n; ++k) {
      const t0 = process.hrtime.bigint();
      await session.run(feeds);
      t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return t;
  };

  await ours(3);
  await theirs(3);
  if (B) await B.run(3);
  const a = [], b = [], c = [];
  for (let r = 0; r < rounds; ++r) {
    await settle();
    a.push(...await ours(batch));
    await settle();
    b.push(...await theirs(batch));
    if (B) {
      await settle();
      c.push(...await B.run(batch));
    }
  }
  A.child.stdin.end();
  if (B) B.child.stdin.end();
  const res = {
    model, ort_model: ortModel, threads, spin, settle_ms: settleMs, runs_each: a.length,
    onednn: { p50_ms: pct(a, 0.5), p95_ms: pct(a, 0.95), details: header.details },
    onnxruntime: { p50_ms: pct(b, 0.5), p95_ms: pct(b, 0.95), version: require('onnxruntime-node/package.json').version },
  };
  res.ratio_p50 = res.onednn.p50_ms / res.onnxruntime.p50_ms;
  if (B) {
    res.b = { bench: benchB, model: arg('model-b', model), precision: arg('precision-b', precision), p50_ms: pct(c, 0.5), p95_ms: pct(c, 0.95) };
    res.ratio_b_p50 = res.b.p50_ms / res.onnxruntime.p50_ms;
  }
  console.log(JSON.stringify(res, null, 2));
}

main().catch((e) => { console.error(e); process.exit(1); });
