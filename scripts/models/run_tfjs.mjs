// Run a TensorFlow.js graph model (model.json + weight files) with TF.js's own CPU backend, as
// the original the ONNX conversion is checked against. Node, with @tensorflow/tfjs-core,
// -converter and -backend-cpu installed beside it.
// Usage: node run_tfjs.mjs MODEL.json INPUT.f32 D0,D1,... OUTDIR
// INPUT.f32 is raw little-endian float32 of the given shape; each output is written to
// OUTDIR/<name>.f32 and the names and shapes to OUTDIR/outputs.json.
import fs from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfconv from "@tensorflow/tfjs-converter";

const [modelFile, inputFile, shapeText, outDir] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(modelFile, "utf8"));
const weightSpecs = [];
const buffers = [];
for (const group of model.weightsManifest) {
  weightSpecs.push(...group.weights);
  for (const p of group.paths) buffers.push(fs.readFileSync(path.join(path.dirname(modelFile), p)));
}
const weightData = Buffer.concat(buffers);
const handler = tf.io.fromMemory({
  modelTopology: model.modelTopology,
  weightSpecs,
  weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.length),
  format: model.format,
  generatedBy: model.generatedBy,
  convertedBy: model.convertedBy,
  signature: model.signature,
});
await tf.setBackend("cpu");
const graph = await tfconv.loadGraphModel(handler);
const raw = fs.readFileSync(inputFile);
const shape = shapeText.split(",").map(Number);
const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.length / 4), shape);
const names = Object.keys(model.signature.outputs);
const outputs = await graph.executeAsync(input, names);
const list = Array.isArray(outputs) ? outputs : [outputs];
const meta = {};
fs.mkdirSync(outDir, { recursive: true });
list.forEach((t, i) => {
  const file = names[i].replace(/[^A-Za-z0-9_]/g, "_") + ".f32";
  fs.writeFileSync(path.join(outDir, file), Buffer.from(t.dataSync().buffer));
  meta[names[i]] = { file, shape: t.shape };
});
fs.writeFileSync(path.join(outDir, "outputs.json"), JSON.stringify(meta));
