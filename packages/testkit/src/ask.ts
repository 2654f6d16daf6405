import net from "node:net";

/**
 * Ask a lab's fake node who it is: connect, send a line, read its JSON answer. The node's name,
 * or undefined when the connection fails, is closed early or answers something else. Each
 * attempt is capped at `timeoutMs`.
 */
export const askFakeNode = (host: string, port: number, timeoutMs = 2000): Promise<string | undefined> =>
  new Promise((resolve) => {
    const sock = net.createConnection({ host, port });
    let data = "";
    const timer = setTimeout(() => sock.destroy(new Error("timeout")), timeoutMs);
    sock.on("connect", () => sock.write("hello\n"));
    sock.on("data", (d) => (data += String(d)));
    sock.on("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    sock.on("close", (hadError) => {
      clearTimeout(timer);
      if (hadError) return;
      try {
        const node = (JSON.parse(data.trim()) as { node?: unknown }).node;
        resolve(typeof node === "string" ? node : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });

/** What one HTTP/1.0 request to an LB node's VIP gave. */
export type HttpOutcome =
  | { readonly kind: "answer"; readonly body: string }
  | { readonly kind: "empty" }
  | { readonly kind: "timeout" }
  | { readonly kind: "refused" }
  | { readonly kind: "error"; readonly code: string };

/**
 * One `GET /` over HTTP/1.0, capped at `timeoutMs`: the trimmed body (the labs' LB nodes answer
 * with their name), or why there was none.
 */
export const askHttp = (host: string, port: number, timeoutMs: number): Promise<HttpOutcome> =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let data = "";
    let done = false;
    const finish = (outcome: HttpOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    socket.setNoDelay(true);
    socket.on("connect", () => socket.write("GET / HTTP/1.0\r\n\r\n"));
    socket.on("data", (b) => (data += b.toString("utf8")));
    socket.on("end", () => {
      const body = (data.split("\r\n\r\n")[1] ?? "").trim();
      finish(body === "" ? { kind: "empty" } : { kind: "answer", body });
    });
    socket.on("error", (e: NodeJS.ErrnoException) =>
      finish(e.code === "ECONNREFUSED" ? { kind: "refused" } : { kind: "error", code: e.code ?? "unknown" }),
    );
  });
