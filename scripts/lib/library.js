// What most benchmark scripts load from the build: the sandbox (throwaway servers) and the number formatter.
// @ts-check

/** The sandbox and the formatter from dist/, as one object (runBenchScript's `library`). */
export async function sandboxLibrary() {
  return {
    ...(await import('../../dist/sandbox/sandbox.js')),
    ...(await import('../../dist/render/format.js')),
  };
}
