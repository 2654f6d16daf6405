export { run, isInstalled, type RunError, type RunOptions, type RunOutput } from "./run.js";
export { readTextIfAny, writeFileAtomic, type FileError, type WriteOptions } from "./files.js";
export { pollUntil } from "./poll.js";
export { addInterface, createNamespace, deleteNamespace, type NetnsError } from "./netns.js";
export { start, type Exit, type StartOptions, type Started } from "./start.js";
export { isNetnsName, runIn } from "./runIn.js";
