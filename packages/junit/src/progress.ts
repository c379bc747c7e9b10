/** A one-line progress bar on a terminal; prints nothing when the stream is not a TTY. */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly width = 30,
    private readonly everyMs = 100,
  ) {}

  update(done: number, total: number, label: string): void {
    if (!this.stream.isTTY || total === 0) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < this.everyMs) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream.write(`\r\u001b[2K${progressLine(done, total, label, this.width)}`);
  }

  /** Clears the bar so the summary starts on a clean line. */
  finish(): void {
    if (this.drawn) this.stream.write("\r\u001b[2K");
    this.drawn = false;
  }
}

export function progressLine(done: number, total: number, label: string, width: number): string {
  const share = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(share * width);
  const percent = `${Math.floor(share * 100)}%`.padStart(4);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${percent} ${done}/${total} tests  ${label}`;
}
