// Package builtin wires the provider kinds shipped with orchestrator:
// Registry registers openai, anthropic and simulated; DefaultConfigs builds
// the default named providers from the environment (OPENAI_API_KEY,
// OPENAI_BASE_URL, ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL); LoadFile and
// Parse read a providers file (`--providers`) that adds or replaces named
// providers, strictly, reporting every problem as file:line:col.
//
// Typical use:
//
//	cfgs, err := builtin.LoadFile(path, os.Getenv) // or builtin.DefaultConfigs(os.Getenv)
//	set, err := builtin.Registry().NewSet(cfgs)
//
// A missing API key is not an error of these functions: the provider's
// entry in the Set carries it ("OPENAI_API_KEY is not set"), so only the
// workflows using that provider fail. Key values never appear in errors.
// All functions are safe for concurrent use; the getenv function must be.
package builtin
