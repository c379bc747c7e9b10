import { expect, it } from "vitest";
import { ProgressBar, progressLine } from "../src/progress";

function fakeStream(isTTY: boolean) {
  const written: string[] = [];
  const stream = {
    isTTY,
    write: (text: string) => written.push(text),
  } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

it("draws a bar with the share done", () => {
  expect(progressLine(25, 100, "big.xml", 20)).toBe(
    "[#####---------------]  25% 25/100 tests  big.xml",
  );
  expect(progressLine(100, 100, "big.xml", 4)).toBe("[####] 100% 100/100 tests  big.xml");
});

it("draws on a terminal only, at most every interval, and clears itself", () => {
  const tty = fakeStream(true);
  const bar = new ProgressBar(tty.stream, 10, 60_000);
  bar.update(1, 3, "a.xml");
  bar.update(2, 3, "a.xml");
  bar.update(3, 3, "a.xml");
  bar.finish();
  expect(tty.written).toEqual([
    `\r\u001b[2K${progressLine(1, 3, "a.xml", 10)}`,
    `\r\u001b[2K${progressLine(3, 3, "a.xml", 10)}`,
    "\r\u001b[2K",
  ]);
  const pipe = fakeStream(false);
  new ProgressBar(pipe.stream).update(1, 3, "a.xml");
  expect(pipe.written).toEqual([]);
});
