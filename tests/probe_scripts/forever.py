import os

print(f"starting pid={os.getpid()} pgid={os.getpgrp()}", flush=True)

import torch  # noqa: E402, F401  (a torch script, as probed scripts are)

while True:
    pass
