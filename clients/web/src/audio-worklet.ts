// AudioWorklet: the microphone's first channel, resampled to 16 kHz mono, posted as 100 ms Int16 chunks.
declare const sampleRate: number;
declare function registerProcessor(name: string, ctor: unknown): void;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}

const TARGET_HZ = 16000;
const CHUNK = 1600;

class Pcm16kProcessor extends AudioWorkletProcessor {
  private step = sampleRate / TARGET_HZ;
  private position = 0; // fractional read position into the incoming stream
  private previous = 0;
  private out = new Int16Array(CHUNK);
  private filled = 0;

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    // Linear interpolation between input samples at the 16 kHz grid points.
    while (this.position < channel.length) {
      const i = Math.floor(this.position);
      const frac = this.position - i;
      const a = i === 0 ? this.previous : channel[i - 1];
      const b = channel[i];
      const x = Math.max(-1, Math.min(1, a + (b - a) * frac));
      this.out[this.filled++] = Math.round(x * 32767);
      if (this.filled === CHUNK) {
        this.port.postMessage(this.out.buffer, [this.out.buffer]);
        this.out = new Int16Array(CHUNK);
        this.filled = 0;
      }
      this.position += this.step;
    }
    this.position -= channel.length;
    this.previous = channel[channel.length - 1];
    return true;
  }
}

registerProcessor("pcm16k", Pcm16kProcessor);
