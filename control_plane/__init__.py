"""pushflow's control plane: the HTTPS API, the run store, and the loops that push runs
to pools. Build it with `control_plane.app.create_app(settings)`; nothing happens at
import time."""
