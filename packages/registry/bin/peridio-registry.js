#!/usr/bin/env node
import '../../../dist/registry/index.js';
