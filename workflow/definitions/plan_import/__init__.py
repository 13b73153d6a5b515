"""Reading a plan written for people (a Word or Excel task table, or plain text) into a plan
file: `planflow plans import`."""
