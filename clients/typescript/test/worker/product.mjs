// A product's Worker, as the README's Hono snippet writes it: the middleware verifies through the
// KEYGATE service binding. Bundled with esbuild by test/worker.test.mjs.
import { Hono } from "hono";
import { keygate } from "@keygate/client/hono";

const app = new Hono();
app.use("/tasks/*", keygate({ permissions: ["tasks:read"], binding: "KEYGATE" }));
app.get("/tasks/mine", (c) => c.json(c.get("keygate")));
export default app;
