package engine

// TEMPORARY: replaced by the engine implementation (helper "engine core").

import (
	"context"
	"errors"
)

type compiled struct{}

type Engine struct{ cfg config }

func New(opts ...Option) (*Engine, error) { return nil, errors.New("engine: not implemented") }

func (e *Engine) Load(file string, data []byte) (*Plan, error) {
	return nil, errors.New("engine: not implemented")
}

func (e *Engine) Run(ctx context.Context, p *Plan, inputs map[string]any, opts ...RunOption) (*Result, error) {
	return nil, errors.New("engine: not implemented")
}
