import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { createClient } from './lib/api/client';
import { AppState } from './lib/state/app.svelte';
import { createTransport } from './lib/transport';

const app = new AppState(createClient(createTransport()));

mount(App, { target: document.getElementById('app')!, props: { app } });
