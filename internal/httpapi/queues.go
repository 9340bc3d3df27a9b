package httpapi

import "net/http"

// The queue endpoints are designed now and completed when Streams exist (a
// queue will be a stream with one consumer group): requests are validated
// as specified in the OpenAPI document and then answered 501 unimplemented.
//
//	POST /v1/queues/{queue}/messages {"value"|"value_base64", "delay"}  -> 201 {"id"}
//	POST /v1/queues/{queue}/receive  {"max", "visibility_timeout", "wait"}
//	                                 -> 200 {"messages": [{"id", "value"|"value_base64", "deliveries"}]}
//	POST /v1/queues/{queue}/ack      {"ids": [...]}                     -> 200 {"acked": n}

// Queue request limits.
const (
	maxReceive = 1000 // messages per receive
	maxAckIDs  = 1000 // ids per ack
)

var errQueuesUnimplemented = &apiError{status: http.StatusNotImplemented, code: codeUnimplemented,
	msg: "queues are not available yet: they arrive with Streams (the request was valid)"}

type sendJSON struct {
	Value       *string      `json:"value"`
	ValueBase64 *string      `json:"value_base64"`
	Delay       jsonDuration `json:"delay"`
}

type receiveJSON struct {
	Max               int          `json:"max"`
	VisibilityTimeout jsonDuration `json:"visibility_timeout"`
	Wait              jsonDuration `json:"wait"`
}

type ackJSON struct {
	IDs []string `json:"ids"`
}

// queueName checks the {queue} path segment (any bytes, percent-encoded;
// not empty).
func queueName(r *http.Request) ([]byte, error) {
	q := r.PathValue("queue")
	if q == "" {
		return nil, invalidf("the queue name is empty")
	}
	return []byte(q), nil
}

func (h *Handler) queueSend(w http.ResponseWriter, r *http.Request) {
	var req sendJSON
	_, err := queueName(r)
	if err == nil {
		err = h.jsonRequest(w, r, &req, false)
	}
	if err == nil {
		_, err = fromTextOrBase64("value", req.Value, req.ValueBase64)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.fail(w, r, errQueuesUnimplemented)
}

func (h *Handler) queueReceive(w http.ResponseWriter, r *http.Request) {
	var req receiveJSON
	_, err := queueName(r)
	if err == nil {
		err = h.jsonRequest(w, r, &req, true)
	}
	if err == nil && (req.Max < 0 || req.Max > maxReceive) {
		err = invalidf("max must be between 0 and %d (0 or absent: 1)", maxReceive)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.fail(w, r, errQueuesUnimplemented)
}

func (h *Handler) queueAck(w http.ResponseWriter, r *http.Request) {
	var req ackJSON
	_, err := queueName(r)
	if err == nil {
		err = h.jsonRequest(w, r, &req, false)
	}
	switch {
	case err != nil:
	case len(req.IDs) == 0:
		err = invalidf("ids must name at least one message")
	case len(req.IDs) > maxAckIDs:
		err = invalidf("at most %d ids per ack", maxAckIDs)
	default:
		for _, id := range req.IDs {
			if id == "" {
				err = invalidf("ids must not contain an empty id")
				break
			}
		}
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.fail(w, r, errQueuesUnimplemented)
}
