// The admin Worker's main module (wrangler.admin.toml `main`): the generated fetch handler and
// the team object, made RPC-capable (rpc.mjs).
import worker, { TeamObject as GeneratedTeamObject } from "./index.js";
import { rpcCapable } from "./rpc.mjs";

export const TeamObject = rpcCapable(GeneratedTeamObject);
export default worker;
