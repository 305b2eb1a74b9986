// The events Worker's main module (wrangler.events.toml `main`): the generated fetch handler and
// the events object, made RPC-capable (rpc.mjs).
import worker, { EventsObject as GeneratedEventsObject } from "./index.js";
import { rpcCapable } from "./rpc.mjs";

export const EventsObject = rpcCapable(GeneratedEventsObject);
export default worker;
