"""Hardware layer of snnsim (``snnsim.hardware``): design rules, fixed-point models, exporters.

Empty in this release: the exporters (NIR, Lava-DL NetX, sPyNNaker) arrive with later work.
"""
