package providertest

import (
	"encoding/json"
	"hash/fnv"
	"net/http"
	"strings"
)

const (
	jsonType = "application/json"
	sseType  = "text/event-stream; charset=utf-8"
	created  = 1700000000
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed shapes are marshalled
	}
	return b
}

func model(req Request) string {
	if m := req.Model(); m != "" {
		return m
	}
	return "fake-model"
}

func plain(status int, body []byte) response {
	return response{status: status, contentType: jsonType, parts: [][]byte{body}}
}

func stream(frames ...[]byte) response {
	return response{status: http.StatusOK, contentType: sseType, parts: frames, stream: true}
}

// ---- OpenAI ----

func dataFrame(v any) []byte { return append(append([]byte("data: "), mustJSON(v)...), "\n\n"...) }

type oaChunk struct {
	ID                string          `json:"id"`
	Object            string          `json:"object"`
	Created           int64           `json:"created"`
	Model             string          `json:"model"`
	SystemFingerprint string          `json:"system_fingerprint"`
	Choices           []oaChunkChoice `json:"choices"`
	Usage             *oaUsage        `json:"usage"`
}

type oaChunkChoice struct {
	Index        int            `json:"index"`
	Delta        map[string]any `json:"delta"`
	Logprobs     any            `json:"logprobs"`
	FinishReason *string        `json:"finish_reason"`
}

type oaUsage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens,omitempty"`
	TotalTokens      int64 `json:"total_tokens"`
}

func openAIChat(req Request, reply Reply) response {
	switch reply.Fault {
	case FaultStatus, FaultHTML:
		return response{}
	}
	in, out := reply.usage()
	usage := &oaUsage{PromptTokens: in, CompletionTokens: out, TotalTokens: in + out}
	stop := reply.StopReason
	if stop == "" {
		stop = "stop"
	}
	m := model(req)
	if !req.Stream() {
		switch reply.Fault {
		case FaultStreamError:
			return response{}
		case FaultGarbage:
			return plain(http.StatusOK, []byte(`{"id":"chatcmpl-fake","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel`))
		}
		choices := []map[string]any{{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": strings.Join(reply.chunks(), ""), "refusal": nil},
			"logprobs":      nil,
			"finish_reason": stop,
		}}
		if reply.Fault == FaultEmpty {
			choices = []map[string]any{}
		}
		return plain(http.StatusOK, mustJSON(map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": m,
			"system_fingerprint": "fp_fake", "choices": choices, "usage": usage,
		}))
	}
	chunk := func(delta map[string]any, finish *string) []byte {
		return dataFrame(oaChunk{ID: "chatcmpl-fake", Object: "chat.completion.chunk", Created: created, Model: m,
			SystemFingerprint: "fp_fake", Choices: []oaChunkChoice{{Delta: delta, FinishReason: finish}}})
	}
	usageFrame := dataFrame(oaChunk{ID: "chatcmpl-fake", Object: "chat.completion.chunk", Created: created, Model: m,
		SystemFingerprint: "fp_fake", Choices: []oaChunkChoice{}, Usage: usage})
	done := []byte("data: [DONE]\n\n")
	switch reply.Fault {
	case FaultGarbage:
		return stream(chunk(map[string]any{"role": "assistant", "content": ""}, nil),
			[]byte(`data: {"id":"chatcmpl-fake","choices":[{"delta":{"content":`+"\n\n"), done)
	case FaultEmpty:
		return stream(usageFrame, done)
	}
	frames := [][]byte{chunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	chunks := reply.chunks()
	if reply.Fault == FaultStreamError {
		chunks = chunks[:len(chunks)/2]
	}
	for _, c := range chunks {
		frames = append(frames, chunk(map[string]any{"content": c}, nil))
	}
	switch reply.Fault {
	case FaultTruncated:
		return stream(frames...)
	case FaultStreamError:
		t := reply.ErrorType
		if t == "" {
			t = "server_error"
		}
		msg := reply.Message
		if msg == "" {
			msg = "The server had an error while processing your request."
		}
		return stream(append(frames, dataFrame(map[string]any{"error": map[string]any{"message": msg, "type": t, "param": nil, "code": nil}}))...)
	}
	frames = append(frames, chunk(map[string]any{}, &stop), usageFrame, done)
	return stream(frames...)
}

func openAIEmbeddings(req Request, reply Reply) response {
	switch reply.Fault {
	case FaultStatus, FaultHTML, FaultStreamError:
		return response{}
	case FaultGarbage:
		return plain(http.StatusOK, []byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,`))
	}
	var inputs []string
	switch v := req.JSON["input"].(type) {
	case string:
		inputs = []string{v}
	case []any:
		for _, x := range v {
			s, _ := x.(string)
			inputs = append(inputs, s)
		}
	}
	dims := DefaultDimensions
	if d, ok := req.JSON["dimensions"].(float64); ok && d > 0 {
		dims = int(d)
	}
	data := []map[string]any{}
	if reply.Fault != FaultEmpty {
		for i, in := range inputs {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": FakeVector(in, dims)})
		}
	}
	in, _ := reply.usage()
	return plain(http.StatusOK, mustJSON(map[string]any{
		"object": "list", "data": data, "model": model(req),
		"usage": oaUsage{PromptTokens: in, TotalTokens: in},
	}))
}

// FakeVector is the embedding the fake OpenAI server returns for text.
func FakeVector(text string, dims int) []float64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(text))
	seed := h.Sum32()
	v := make([]float64, dims)
	for i := range v {
		v[i] = float64((seed+uint32(i)*7919)%1000) / 1000
	}
	return v
}

func openAIError(status int, errType, msg string) []byte {
	code := any(nil)
	if errType == "" {
		switch status {
		case http.StatusTooManyRequests:
			errType, code = "requests", "rate_limit_exceeded"
		case http.StatusUnauthorized:
			errType, code = "invalid_request_error", "invalid_api_key"
		case http.StatusNotFound:
			errType, code = "invalid_request_error", "model_not_found"
		default:
			if status >= 500 {
				errType = "server_error"
			} else {
				errType = "invalid_request_error"
			}
		}
	}
	if msg == "" {
		msg = defaultMessage(status)
	}
	return mustJSON(map[string]any{"error": map[string]any{"message": msg, "type": errType, "param": nil, "code": code}})
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit reached for requests. Please try again later."
	case 529:
		return "Overloaded"
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return "error"
}

// ---- Anthropic ----

func eventFrame(event string, v any) []byte {
	return []byte("event: " + event + "\ndata: " + string(mustJSON(v)) + "\n\n")
}

func anthropicUsage(in, out int64) map[string]any {
	return map[string]any{"input_tokens": in, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": out}
}

func anthropicChat(req Request, reply Reply) response {
	switch reply.Fault {
	case FaultStatus, FaultHTML:
		return response{}
	}
	in, out := reply.usage()
	stop := reply.StopReason
	if stop == "" {
		stop = "end_turn"
	}
	m := model(req)
	message := func(content []map[string]any, stop any, usage map[string]any) map[string]any {
		return map[string]any{"id": "msg_fake", "type": "message", "role": "assistant", "model": m,
			"content": content, "stop_reason": stop, "stop_sequence": nil, "usage": usage}
	}
	if !req.Stream() {
		switch reply.Fault {
		case FaultStreamError:
			return response{}
		case FaultGarbage:
			return plain(http.StatusOK, []byte(`{"id":"msg_fake","type":"message","role":"assistant","content":[{"type":"text","text":"Hel`))
		case FaultEmpty:
			return plain(http.StatusOK, mustJSON(message([]map[string]any{}, nil, anthropicUsage(in, out))))
		}
		return plain(http.StatusOK, mustJSON(message(
			[]map[string]any{{"type": "text", "text": strings.Join(reply.chunks(), "")}}, stop, anthropicUsage(in, out))))
	}
	frames := [][]byte{eventFrame("message_start", map[string]any{"type": "message_start",
		"message": message([]map[string]any{}, nil, anthropicUsage(in, 1))})}
	stopFrame := eventFrame("message_stop", map[string]any{"type": "message_stop"})
	switch reply.Fault {
	case FaultGarbage:
		return stream(append(frames, []byte("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\n\n"))...)
	case FaultEmpty:
		return stream(append(frames,
			eventFrame("message_delta", map[string]any{"type": "message_delta",
				"delta": map[string]any{"stop_reason": nil, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": out}}),
			stopFrame)...)
	}
	frames = append(frames,
		eventFrame("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
			"content_block": map[string]any{"type": "text", "text": ""}}),
		eventFrame("ping", map[string]any{"type": "ping"}))
	chunks := reply.chunks()
	if reply.Fault == FaultStreamError {
		chunks = chunks[:len(chunks)/2]
	}
	for _, c := range chunks {
		frames = append(frames, eventFrame("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": c}}))
	}
	switch reply.Fault {
	case FaultTruncated:
		return stream(frames...)
	case FaultStreamError:
		t := reply.ErrorType
		if t == "" {
			t = "overloaded_error"
		}
		msg := reply.Message
		if msg == "" {
			msg = "Overloaded"
		}
		return stream(append(frames, eventFrame("error", map[string]any{"type": "error",
			"error": map[string]any{"type": t, "message": msg}}))...)
	}
	frames = append(frames,
		eventFrame("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0}),
		eventFrame("message_delta", map[string]any{"type": "message_delta",
			"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": out}}),
		stopFrame)
	return stream(frames...)
}

func anthropicError(status int, errType, msg string) []byte {
	if errType == "" {
		switch status {
		case http.StatusUnauthorized:
			errType = "authentication_error"
		case http.StatusForbidden:
			errType = "permission_error"
		case http.StatusNotFound:
			errType = "not_found_error"
		case http.StatusRequestEntityTooLarge:
			errType = "request_too_large"
		case http.StatusTooManyRequests:
			errType = "rate_limit_error"
		case http.StatusGatewayTimeout:
			errType = "timeout_error"
		case 529:
			errType = "overloaded_error"
		default:
			if status >= 500 {
				errType = "api_error"
			} else {
				errType = "invalid_request_error"
			}
		}
	}
	if msg == "" {
		msg = defaultMessage(status)
	}
	return mustJSON(map[string]any{"type": "error", "error": map[string]any{"type": errType, "message": msg},
		"request_id": "req_fake"})
}
