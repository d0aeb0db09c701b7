package runner

import (
	"os"
	"os/signal"
	"syscall"
)

// OnInterrupt returns a channel that is closed on the first SIGINT
// (Ctrl-C) or SIGTERM, for Config.Stop, and a function that stops
// listening. A second signal is not caught: it ends the process.
func OnInterrupt() (<-chan struct{}, func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			signal.Stop(sig)
			close(stop)
		case <-done:
		}
	}()
	return stop, func() { signal.Stop(sig); close(done) }
}
