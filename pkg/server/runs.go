package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/orchestrator-dev/orchestrator/pkg/engine"
	"github.com/orchestrator-dev/orchestrator/pkg/engine/workflow"
)

// runRequest is the body of POST /v1/runs.
type runRequest struct {
	Workflow json.RawMessage `json:"workflow"`
	Inputs   map[string]any  `json:"inputs"`
}

// workflowRunRequest is the body of POST /v1/workflows/{name}/runs.
type workflowRunRequest struct {
	Inputs map[string]any `json:"inputs"`
}

func (s *Server) postRun(w http.ResponseWriter, r *http.Request) {
	async, ok := s.asyncParam(w, r)
	if !ok {
		return
	}
	tk, ok := s.admit(w, r, async)
	if !ok {
		return
	}
	defer tk.release() // a no-op once an async run took the ticket over
	var req runRequest
	if !s.decodeBody(w, r, &req, false) {
		return
	}
	plan, ok := s.inlinePlan(w, r, req.Workflow)
	if !ok {
		return
	}
	s.start(w, r, plan, req.Inputs, async, tk)
}

func (s *Server) postWorkflowRun(w http.ResponseWriter, r *http.Request) {
	async, ok := s.asyncParam(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	plan, found := s.workflows[name]
	if !found {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no preloaded workflow named %q", name))
		return
	}
	tk, ok := s.admit(w, r, async)
	if !ok {
		return
	}
	defer tk.release()
	var req workflowRunRequest
	if !s.decodeBody(w, r, &req, true) {
		return
	}
	s.start(w, r, plan, req.Inputs, async, tk)
}

func (s *Server) asyncParam(w http.ResponseWriter, r *http.Request) (async, ok bool) {
	v := r.URL.Query().Get("async")
	if v == "" {
		return false, true
	}
	async, err := strconv.ParseBool(v)
	if err != nil {
		s.reject(w, r, ReasonMalformed, http.StatusBadRequest, fmt.Sprintf("query parameter async=%q is not a boolean", v))
		return false, false
	}
	return async, true
}

// decodeBody strictly decodes one JSON object into dst. An empty body is
// accepted when emptyOK.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, dst any, emptyOK bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.reject(w, r, ReasonTooLarge, http.StatusRequestEntityTooLarge,
				fmt.Sprintf("request body exceeds %d bytes", tooLarge.Limit))
			return false
		}
		s.reject(w, r, ReasonMalformed, http.StatusBadRequest, fmt.Sprintf("read request body: %v", err))
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 && emptyOK {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		s.reject(w, r, ReasonMalformed, http.StatusBadRequest, fmt.Sprintf("malformed request body: %v", err))
		return false
	}
	if dec.More() {
		s.reject(w, r, ReasonMalformed, http.StatusBadRequest, "malformed request body: data after the JSON object")
		return false
	}
	return true
}

// inlinePlan loads the workflow of a POST /v1/runs body, from the plan
// cache when the same source was loaded before.
func (s *Server) inlinePlan(w http.ResponseWriter, r *http.Request, raw json.RawMessage) (*engine.Plan, bool) {
	raw = bytes.TrimSpace(raw)
	var src []byte
	file := "workflow.yaml"
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		s.reject(w, r, ReasonMalformed, http.StatusBadRequest, `malformed request body: "workflow" is required`)
		return nil, false
	case raw[0] == '"':
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			s.reject(w, r, ReasonMalformed, http.StatusBadRequest, fmt.Sprintf("malformed request body: %v", err))
			return nil, false
		}
		src = []byte(text)
	case raw[0] == '{':
		src, file = raw, "workflow.json"
	default:
		s.reject(w, r, ReasonMalformed, http.StatusBadRequest, `malformed request body: "workflow" must be YAML or JSON text, or an object`)
		return nil, false
	}
	key := sha256.Sum256(append([]byte(file+"\x00"), src...))
	if p, ok := s.plans.get(key); ok {
		return p, true
	}
	p, err := s.eng.Load(filepath.Join(s.cfg.inlineDir, file), src)
	if err != nil {
		var problems workflow.Problems
		if errors.As(err, &problems) {
			s.rejections.Add(r.Context(), 1, s.reasonOpts[ReasonInvalidWorkflow])
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "invalid workflow", Problems: problems})
			return nil, false
		}
		s.reject(w, r, ReasonInvalidWorkflow, http.StatusBadRequest, fmt.Sprintf("invalid workflow: %v", err))
		return nil, false
	}
	s.plans.add(key, p)
	return p, true
}

// start runs plan. Synchronously it answers 200 with the result document.
// Asynchronously it hands the ticket to the run's goroutine and answers 202
// {"id"}: once the run has started when it holds a run slot, or at once
// when it was queued (the document then says "queued" until it starts).
func (s *Server) start(w http.ResponseWriter, r *http.Request, plan *engine.Plan, inputs map[string]any, async bool, tk *ticket) {
	var wt *waiter
	if tk.queued {
		if err := plan.CheckInputs(inputs); err != nil {
			s.reject(w, r, ReasonInvalidInputs, http.StatusBadRequest, err.Error())
			return
		}
		wt = s.enqueue(r.Context(), tk)
	}
	e := s.history.begin(newRunID(), plan.Workflow.Name)
	if wt == nil {
		e.onStart = s.queue.QueueBypassed
	}
	opts := []engine.RunOption{engine.WithRunID(e.id), engine.WithRunObserver(e)}
	if !async {
		ctx, cancel := s.runContext(r.Context())
		defer cancel()
		res, err := s.eng.Run(ctx, plan, inputs, opts...)
		if err != nil {
			s.history.abort(e)
			s.runError(w, r, err)
			return
		}
		s.history.finish(e, res)
		writeJSON(w, http.StatusOK, res)
		return
	}

	// The run outlives the request: keep its values (trace context) but
	// not its cancellation.
	ctx, cancel := s.runContext(context.WithoutCancel(r.Context()))
	errc := make(chan error, 1)
	owned := tk.handOff() // Wait waits for the goroutine through its ticket
	go func() {
		defer owned.release()
		defer cancel()
		if wt != nil {
			s.awaitTurn(ctx, owned, wt)
		}
		res, err := s.eng.Run(ctx, plan, inputs, opts...)
		if err != nil {
			s.history.abort(e)
			if wt != nil { // nobody reads errc any more: its 202 is answered
				s.log.ErrorContext(ctx, "queued run failed to start", "run_id", e.id, "error", err)
			}
			errc <- err
			return
		}
		s.history.finish(e, res)
	}()
	if wt != nil {
		s.accepted(w, e.id)
		return
	}
	select {
	case <-e.started:
		s.accepted(w, e.id)
	case <-e.done: // defensive: a run that ended without a RunStart event
		s.accepted(w, e.id)
	case err := <-errc:
		s.runError(w, r, err)
	}
}

func (s *Server) accepted(w http.ResponseWriter, id string) {
	w.Header().Set("Location", "/v1/runs/"+id)
	writeJSON(w, http.StatusAccepted, map[string]string{"id": id})
}

func (s *Server) runError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, engine.ErrInvalidInputs) {
		s.reject(w, r, ReasonInvalidInputs, http.StatusBadRequest, err.Error())
		return
	}
	s.log.ErrorContext(r.Context(), "run failed to start", "error", err)
	writeError(w, http.StatusInternalServerError, "internal error: the run could not start")
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	doc, ok := s.history.get(id)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no run %q (unknown, or no longer in the history)", id))
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// workflowInfo describes one preloaded workflow in GET /v1/workflows.
type workflowInfo struct {
	Name        string               `json:"name"`
	Version     string               `json:"version,omitempty"`
	Description string               `json:"description,omitempty"`
	Inputs      map[string]inputInfo `json:"inputs"`
	Steps       int                  `json:"steps"`
}

type inputInfo struct {
	Required    bool   `json:"required"`
	Default     any    `json:"default,omitempty"`
	Description string `json:"description,omitempty"`
}

func (s *Server) listWorkflows(w http.ResponseWriter, _ *http.Request) {
	out := make([]workflowInfo, 0, len(s.names))
	for _, name := range s.names {
		wf := s.workflows[name].Workflow
		info := workflowInfo{
			Name:        wf.Name,
			Version:     wf.Version,
			Description: wf.Description,
			Inputs:      make(map[string]inputInfo, len(wf.Inputs)),
			Steps:       len(wf.Steps),
		}
		for n, in := range wf.Inputs {
			info.Inputs[n] = inputInfo{Required: in.Required, Default: in.Default, Description: in.Description}
		}
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, map[string]any{"workflows": out})
}
