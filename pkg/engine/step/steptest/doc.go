// Package steptest provides fakes for testing step types without the
// engine: a Builder that records problems and parses templates with package
// tmpl, a Runtime with given template data, a scripted provider.Provider, and
// a decoder that turns a YAML snippet into a workflow.Step the way the
// workflow decoder does.
//
// Start with NewBuilder and Builder.Build. The Builder is not safe for
// concurrent use (neither is step.Builder); Runtime and Provider are.
package steptest
