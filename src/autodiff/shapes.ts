/**
 * The autodiff's view of shape inference: the one walker of src/opset (inferShapes, run with a
 * symbolic batch by the training engine's partition). Kept as a module so train/engine's imports
 * of `autodiff/shapes` keep working; new code imports src/opset/infer.ts directly.
 */
export { inferShapes, ShapeError } from "../opset/infer.js";
export type { Dim, Shape } from "../opset/types.js";
