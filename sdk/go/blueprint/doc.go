// Deploys plain Go job functions to serverless platforms (AWS Lambda, a WASM runtime) when their analysis says they are fit for it; the runtime agent routes each execution from the stack.
package blueprint
