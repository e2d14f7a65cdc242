"""Tests of the Isabellenhütte IEM-DCR integration, client, simulator and OCMF tools."""
