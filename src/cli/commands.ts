/**
 * The list of commands, one registration function each (src/cli/<command>.ts). Adding a command
 * is one import and one entry here.
 */
import type { Command } from "commander";
import type { CliIO } from "./context.js";

export type RegisterCommand = (program: Command, io: CliIO) => void;

export const COMMANDS: RegisterCommand[] = [];
