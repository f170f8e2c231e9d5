# ---- 0.3 examples (examples/cpp/game_loop.cpp) ----
.PHONY: examples-v03

## examples-v03: build/examples/game_loop (C++17: a 60 Hz game loop polling a
## subscription on its own thread, with a publisher thread). Run it as
## MOQ_FFI_PIN_SHA256=<fingerprint> build/examples/game_loop moqt://127.0.0.1:PORT/ [FRAMES].
examples-v03: lib
	@mkdir -p build/examples
	g++ -std=c++17 -Wall -Wextra -Werror -Ibuild/include examples/cpp/game_loop.cpp \
	  -o build/examples/game_loop -Lbuild/lib -lmoq_ffi -Wl,-rpath,'$$ORIGIN/../lib' -pthread

# examples also builds the 0.3 game-loop example.
examples: examples-v03
