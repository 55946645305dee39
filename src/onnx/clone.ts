/**
 * Structural copies of models, for passes that edit a graph (subnet extraction, BatchNorm
 * recalibration) without touching the model they were given.
 */
import { make, onnx, type AttributeProto, type ModelProto, type NodeProto, type ValueInfoProto } from "./proto.js";

/**
 * A copy whose graph structure (nodes, attributes, inputs, outputs) can be edited without
 * touching `model`. Initializer tensors are shared, not copied: extraction never writes to them
 * (folding makes new ones), and a supernet's weights can be large.
 */
export function cloneForEditing(model: ModelProto): ModelProto {
  const g = model.graph!;
  // Attributes holding subgraphs (If/Loop bodies) are copied deeply: renaming reaches into them.
  const copyAttr = (a: AttributeProto): AttributeProto =>
    a.g || a.graphs.length
      ? (onnx.AttributeProto.decode(onnx.AttributeProto.encode(a as never).finish()) as unknown as AttributeProto)
      : make.attribute({ ...a, ints: [...a.ints], floats: [...a.floats] });
  const copyNode = (n: NodeProto): NodeProto => make.node({ ...n, input: [...n.input], output: [...n.output], attribute: n.attribute.map(copyAttr) });
  const copyInfo = (v: ValueInfoProto): ValueInfoProto => onnx.ValueInfoProto.decode(onnx.ValueInfoProto.encode(v as never).finish()) as unknown as ValueInfoProto;
  const graph = make.graph({
    ...g,
    node: g.node.map(copyNode),
    initializer: [...g.initializer],
    input: g.input.map(copyInfo),
    output: g.output.map(copyInfo),
    valueInfo: g.valueInfo.map(copyInfo),
  });
  return make.model({ ...model, graph, metadataProps: model.metadataProps.map((e) => make.entry(e.key, e.value)), opsetImport: model.opsetImport.map((o) => ({ ...o })) });
}
