package review

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/segmentio/kafka-go"
)

type fakeWriter struct {
	msgs []kafka.Message
	err  error
}

func (w *fakeWriter) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	if w.err != nil {
		return w.err
	}
	w.msgs = append(w.msgs, msgs...)
	return nil
}

func TestKafkaPublisher(t *testing.T) {
	w := &fakeWriter{}
	p := KafkaPublisher{Writer: w}
	events := []Event{
		{ID: "takedown:c_1", Topic: "takedowns", Key: "l_1", Payload: json.RawMessage(`{"a":1}`)},
		{ID: "mark:m_1:3", Topic: "marks", Key: "m_1"},
	}
	if err := p.Publish(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	want := []kafka.Message{
		{Topic: "takedowns", Key: []byte("l_1"), Value: []byte(`{"a":1}`), Headers: []kafka.Header{{Key: "event_id", Value: []byte("takedown:c_1")}}},
		{Topic: "marks", Key: []byte("m_1"), Headers: []kafka.Header{{Key: "event_id", Value: []byte("mark:m_1:3")}}},
	}
	if !reflect.DeepEqual(w.msgs, want) {
		t.Errorf("messages\n got %+v\nwant %+v", w.msgs, want)
	}
	if w.msgs[1].Value != nil {
		t.Error("a tombstone got a non-nil value")
	}
	boom := errors.New("not enough replicas")
	w.err = boom
	if err := p.Publish(t.Context(), events); !errors.Is(err, boom) {
		t.Errorf("error %v, want the writer's", err)
	}
}
