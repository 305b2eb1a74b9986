// The edge Worker's main module (wrangler.toml `main`): the generated fetch handler and the key
// object, made RPC-capable (rpc.mjs).
import worker, { KeyObject as GeneratedKeyObject } from "./index.js";
import { rpcCapable } from "./rpc.mjs";

export const KeyObject = rpcCapable(GeneratedKeyObject);
export default worker;
