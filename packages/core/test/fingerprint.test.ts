import { describe, expect, it } from "vitest";
import { failureFingerprint, firstProjectFrame, normalizeFailureMessage } from "../src/fingerprint";

describe("normalizeFailureMessage", () => {
  it.each([
    // Playwright timeouts
    [
      "TimeoutError: locator.click: Timeout 5000ms exceeded.",
      "TimeoutError: locator.click: Timeout <n>ms exceeded.",
    ],
    [
      "Error: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:41823/cart",
      "Error: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:<n>/cart",
    ],
    // Jest / Vitest assertion diffs
    [
      "AssertionError: expected 9 to be 8 // Object.is equality",
      "AssertionError: expected <n> to be <n> // Object.is equality",
    ],
    [
      'expect(received).toBe(expected)\n\nExpected: "paid"\nReceived: "pending"',
      "expect(received).toBe(expected) Expected: <q> Received: <q>",
    ],
    // Java and Python
    [
      "org.opentest4j.AssertionFailedError: expected: <8> but was: <9>",
      "org.opentest4j.AssertionFailedError: expected: <<n>> but was: <<n>>",
    ],
    ["AssertionError: assert 3 == 2", "AssertionError: assert <n> == <n>"],
    // Ids, ports, temp paths and times
    ["order 3f2b8c1e-9a4d-4e21-b7c3-0d5e6f7a8b9c not found", "order <uuid> not found"],
    ["connect ECONNREFUSED 127.0.0.1:5432", "connect ECONNREFUSED <n>.<n>.<n>.<n>:<n>"],
    [
      "ENOENT: no such file, open '/tmp/vitest-abc123/report.json'",
      "ENOENT: no such file, open <q>",
    ],
    ["cannot write /tmp/pytest-of-ci/pytest-7/out.txt: disk full", "cannot write <tmp>: disk full"],
    [
      "session expired at 2026-11-20T09:30:00.123Z (now 09:31:02)",
      "session expired at <time> (now <time>)",
    ],
    [
      "commit a3f9c2e81b7d4 is not on main; object 0x7ffd5e8c",
      "commit <hex> is not on main; object <hex>",
    ],
  ])("%j → %j", (message, expected) => {
    expect(normalizeFailureMessage(message)).toBe(expected);
  });
});

describe("firstProjectFrame", () => {
  it.each([
    [
      "Error: boom\n    at Object.<anonymous> (/ci/node_modules/expect/build/index.js:1:2)\n    at pay (/home/ci/shop/src/cart.ts:18:11)\n    at /home/ci/shop/test/cart.test.ts:9:5",
      "src/cart.ts › pay",
    ],
    ["Error: x\n    at file:///work/app/tests/login.spec.ts:12:7", "tests/login.spec.ts › <top>"],
    [
      'Traceback (most recent call last):\n  File "/usr/lib/python3.11/unittest/case.py", line 57, in testPartExecutor\n    yield\n  File "/home/ci/shop/tests/test_checkout.py", line 12, in test_adds_an_item\n    assert cart.count == 2\nAssertionError: assert 3 == 2',
      "tests/test_checkout.py › test_adds_an_item",
    ],
    [
      "org.opentest4j.AssertionFailedError: expected: <8> but was: <9>\n\tat org.junit.jupiter.api.AssertionUtils.fail(AssertionUtils.java:55)\n\tat com.example.shop.CartTest.appliesADiscount(CartTest.java:27)",
      "CartTest.java › com.example.shop.CartTest.appliesADiscount",
    ],
    ["AssertionError: no stack here", undefined],
  ])("%#", (text, expected) => {
    expect(firstProjectFrame(text)).toBe(expected);
  });
});

describe("failureFingerprint", () => {
  const at = (line: number) => `\n    at pay (/home/ci/shop/src/cart.ts:${line}:11)`;
  it.each([
    [
      "the same timeout with another duration and port",
      `TimeoutError: waiting for http://localhost:4123 took 5001ms${at(18)}`,
      `TimeoutError: waiting for http://localhost:9876 took 30000ms${at(18)}`,
    ],
    [
      "the same assertion with other values and a moved line",
      `AssertionError: expected 9 to be 8${at(18)}`,
      `AssertionError: expected 10 to be 7${at(42)}`,
    ],
    [
      "the same missing order with another UUID and time",
      "order 3f2b8c1e-9a4d-4e21-b7c3-0d5e6f7a8b9c expired 2026-11-20T09:30:00Z",
      "order 11111111-2222-4333-8444-555555555555 expired 2026-12-01T10:00:00Z",
    ],
    [
      "a Python assertion at the same place",
      'Traceback (most recent call last):\n  File "/a/tests/test_x.py", line 3, in test_y\n    assert 1 == 2\nAssertionError: assert 1 == 2',
      'Traceback (most recent call last):\n  File "/b/tests/test_x.py", line 9, in test_y\n    assert 5 == 2\nAssertionError: assert 5 == 2',
    ],
  ])("groups %s", (_, a, b) => {
    expect(failureFingerprint(a)).toBe(failureFingerprint(b));
  });

  it.each([
    [
      "different messages",
      `AssertionError: expected 9 to be 8${at(18)}`,
      `TypeError: cart is undefined${at(18)}`,
    ],
    [
      "the same message in another function",
      "AssertionError: expected 9 to be 8\n    at pay (/s/src/cart.ts:1:1)",
      "AssertionError: expected 9 to be 8\n    at refund (/s/src/cart.ts:1:1)",
    ],
    [
      "the same message in another file",
      "Error: boom\n    at run (/s/src/a.ts:1:1)",
      "Error: boom\n    at run (/s/src/b.ts:1:1)",
    ],
    [
      "a timeout and a refused connection",
      "TimeoutError: Timeout 5000ms exceeded.",
      "Error: connect ECONNREFUSED 127.0.0.1:5432",
    ],
  ])("keeps apart %s", (_, a, b) => {
    expect(failureFingerprint(a)).not.toBe(failureFingerprint(b));
  });

  it("is 16 hex characters", () => {
    expect(failureFingerprint("anything")).toMatch(/^[0-9a-f]{16}$/);
  });
});
