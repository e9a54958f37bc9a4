package delivery_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/sealpost/sealpost/gateway/delivery"
)

// BenchmarkSendReused measures the client's ceiling: 16 concurrent senders
// over a pool of 16 reused TLS connections to a loopback relay.
func BenchmarkSendReused(b *testing.B) {
	srv := startRelay(b, relayOptions{tlsConfig: serverTLS(goodCert(b))})
	cfg := config(srv.addr, delivery.StartTLS)
	cfg.MaxConns = 16
	cfg.MaxMessagesPerConn = 1 << 30
	relay := newRelay(b, cfg)
	msg := message("benchmark")

	b.SetParallelism(max(1, 16/runtimeProcs()))
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := relay.Send(context.Background(), envelope(), msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
