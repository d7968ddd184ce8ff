"""What an answer cost: the energy meter over the power sensors, the answer pricer
(electricity, hardware share, cloud equivalent) and the price catalog with overrides."""
