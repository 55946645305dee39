/** Model-level metadata_props entries (where bnnas keeps its manifests and records), by key. */
import { make, type ModelProto } from "./proto.js";

export function metadataEntry(model: ModelProto, key: string): string | undefined {
  return model.metadataProps.find((e) => e.key === key)?.value;
}

/** Sets `key` to `value`, replacing an existing entry in place. */
export function setMetadataEntry(model: ModelProto, key: string, value: string): void {
  const e = model.metadataProps.find((x) => x.key === key);
  if (e) e.value = value;
  else model.metadataProps.push(make.entry(key, value));
}
