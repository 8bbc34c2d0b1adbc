import * as tf from '@tensorflow/tfjs-node';
await tf.ready();
const T = (s: number[]) => tf.randomNormal(s);
const cases: [string, tf.Tensor, tf.Tensor][] = [
  ['same 64x4x100x100', T([64,4,100,100]), T([64,4,100,100])],
  ['bcast heads [64,1,N,N]', T([64,4,100,100]), T([64,1,100,100])],
  ['bcast [1,1,N,N]', T([64,4,100,100]), T([1,1,100,100])],
  ['same 6400x64', T([6400,64]), T([6400,64])],
  ['row vec [64]', T([6400,64]), T([64])],
  ['col [6400,1]', T([6400,64]), T([6400,1])],
  ['scalar', T([6400,64]), tf.scalar(2)],
  ['5600x512 + [5600,1]', T([5600,512]), T([5600,1])],
  ['5600x512 same', T([5600,512]), T([5600,512])],
  ['50001x64 scalar', T([50001,64]), tf.scalar(0.9)],
  ['50001x64 same', T([50001,64]), T([50001,64])],
];
for (const [name, a, b] of cases) {
  for (let i = 0; i < 20; i++) tf.mul(a, b).dispose();
  const t0 = performance.now(); const n = 200;
  for (let i = 0; i < n; i++) tf.mul(a, b).dispose();
  const ms = (performance.now() - t0) / n;
  console.log(name.padEnd(28), ms.toFixed(3), 'ms', (a.size / ms / 1e6).toFixed(2), 'Gelem/s');
}
