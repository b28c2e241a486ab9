package parallel

import "time"

// spinSleep waits long enough for idle workers to park.
func spinSleep() { time.Sleep(2 * time.Millisecond) }
