# Shortcuts for developers; each delegates to tasks.py, which needs nothing but Python.
.PHONY: run test bench screenshots dist
run:
	python3 tasks.py run
test:
	python3 tasks.py test
bench:
	python3 tasks.py bench
screenshots:
	python3 tasks.py screenshots
dist:
	python3 tasks.py dist
