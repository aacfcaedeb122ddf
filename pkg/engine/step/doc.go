// Package step defines step types: the Spec a type registers (config struct,
// load-time Build), the Executor that runs one attempt, and the Registry that
// maps the YAML `type:` to a Spec. The workflow decoder and the validator
// ask the registry what exists, so no list of types is written twice.
//
// Built-in types live in sub-packages (llm, embed, vectorsearch, transform,
// action); parallel and branch live in the engine because they schedule
// nested steps. Executors never retry, log failures or record metrics: the
// engine wraps every attempt.
package step
